"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) and digests of receipts.

``rfc8785`` writes the canonical form in Python, one call per value and a regular expression per
string: ~0.2 ms for a decision's 3 kB context and ~0.15 ms for its receipt body, the largest item
of a decide after the database (issue 13). ``orjson`` with sorted keys writes the same bytes for
most documents; ``canonical_bytes`` uses it only where the two provably agree and lets
``rfc8785`` write everything else:

- strings: both escape exactly ``"``, ``\\``, the C0 controls (``\\b \\t \\n \\f \\r``, the rest
  ``\\u00xx``) and nothing else (checked for every code point by the tests); a lone surrogate
  fails in both;
- keys: RFC 8785 sorts by UTF-16 code units, ``orjson`` by code points; the two orders agree
  when every key is ASCII, so a document with any other key goes to ``rfc8785``;
- integers: within ``+-(2**53 - 1)`` both write the decimal digits; outside it RFC 8785 refuses;
- floats: ES6 writes a whole number without a fraction (``0.0`` -> ``0``), so one below
  ``2**53`` is written as that integer; a fractional one from ``1e-5`` upwards is written by both
  with the same shortest round-trip digits; any other (an exponent or a tiny magnitude, NaN,
  infinities) goes to ``rfc8785``;
- ``None``, booleans, lists, tuples and dictionaries as such; a subclass of one of these types
  (a ``StrEnum`` member such as a suppression reason, an ``OrderedDict``) as a copy of its base
  type, as ``rfc8785`` writes it; any other type (a plain ``Enum``, a ``UUID``, a ``datetime``,
  which ``orjson`` would accept) goes to ``rfc8785``, which writes or refuses it as before.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import rfc8785

# RFC 8785 3.2.2.3: the integers an IEEE 754 double holds exactly.
_SAFE_INTEGER = 2**53 - 1
# Below it ES6 and orjson spell a fractional float differently (1e-6: "0.000001" and "1e-6").
_SMALLEST_FRACTION = 1e-5


class _NotAdmitted(Exception):
    """The document holds a value whose canonical spelling ``orjson`` does not give."""


def canonical_bytes(document: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 form of ``document`` (sorted keys, no whitespace, ES6 numbers):
    ``orjson`` where it writes the same bytes, else ``rfc8785`` (module docstring).

    Raises:
        rfc8785.CanonicalizationError: values JSON cannot carry (NaN, integers beyond 2**53...).
    """
    try:
        return orjson.dumps(_admit(document), option=orjson.OPT_SORT_KEYS)
    except (_NotAdmitted, RecursionError, orjson.JSONEncodeError):  # e.g. nested beyond orjson's limit
        return rfc8785.dumps(document)


def sha256_digest(document: Any) -> str:
    """``"sha256:<hex>"`` of the canonical form."""
    return "sha256:" + hashlib.sha256(canonical_bytes(document)).hexdigest()


def _admit(value: Any) -> Any:
    """``value`` if ``orjson`` writes its canonical form as is, a copy with whole floats made
    integers if that is all it takes; raises ``_NotAdmitted`` otherwise."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
            return value
        raise _NotAdmitted
    if kind is float:
        magnitude = abs(value)
        if magnitude <= _SAFE_INTEGER and value.is_integer():
            return int(value)  # -0.0 too: ES6 writes "0"
        if _SMALLEST_FRACTION <= magnitude <= _SAFE_INTEGER:
            return value
        raise _NotAdmitted
    if kind is dict:
        changed = None
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise _NotAdmitted
            admitted = _admit(item)
            if admitted is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = admitted
        return value if changed is None else changed
    if kind is list or kind is tuple:
        items = None
        for index, item in enumerate(value):
            admitted = _admit(item)
            if admitted is not item:
                if items is None:
                    items = list(value)
                items[index] = admitted
        return value if items is None else items
    # A subclass (an enum member, an OrderedDict...): RFC 8785 writes a string's text and an
    # integer, float, object or array as its base type, so a copy of that type is written.
    if isinstance(value, str):
        return str.__str__(value)
    for base in (int, float, dict, list, tuple):
        if isinstance(value, base):
            return _admit(base(value))
    raise _NotAdmitted
