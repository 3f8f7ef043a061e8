"""``canonical_bytes`` is RFC 8785 byte for byte: its ``orjson`` path writes exactly what ``rfc8785``
writes, and whatever that path does not admit is written (or refused) by ``rfc8785`` itself."""

from __future__ import annotations

import enum
import math
import random
import uuid
from collections import OrderedDict
from datetime import UTC, datetime

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from receipts import canonical
from receipts.canonical import canonical_bytes, sha256_digest


def _outcome(write, document):
    try:
        return write(document)
    except Exception as exc:  # the failure itself is compared
        return type(exc)


def _same_as_rfc8785(document) -> None:
    assert _outcome(canonical_bytes, document) == _outcome(rfc8785.dumps, document)


numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e-3, max_value=1e-3),  # around the smallest admitted fraction
    st.integers(min_value=-(2**53), max_value=2**53).map(float),  # whole floats near the limit
)
text = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["1.0", "v2.0]", '"\\/', "\x00\x1f\x7f"]
)
documents = st.recursive(
    st.none() | st.booleans() | numbers | text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=1500, deadline=None)
@given(documents)
def test_any_json_document_is_written_as_rfc8785_writes_it(document):
    _same_as_rfc8785(document)


def test_every_code_point_is_escaped_as_rfc8785_escapes_it():
    for start in range(0, 0x110000, 0x800):
        chars = "".join(chr(c) for c in range(start, start + 0x800) if not 0xD800 <= c <= 0xDFFF)
        document = {"k": chars, "l": [chars[::-1]]}
        assert orjson.dumps(document, option=orjson.OPT_SORT_KEYS) == rfc8785.dumps(document)


def test_every_decimal_band_of_fractions_is_spelt_as_es6_spells_it():
    rng = random.Random(8785)
    for exponent in range(-5, 16):
        for _ in range(2000):
            value = rng.uniform(1, 10) * 10.0**exponent
            value = round(value, rng.randint(0, 17)) if rng.random() < 0.5 else value
            _same_as_rfc8785({"a": [value, -value]})


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3
    HUGE = 2**60


class Odd(str, enum.Enum):  # noqa: UP042 - the mixin form, as older code writes it
    A = "a\u00e9"


class Plain(enum.Enum):  # neither str nor int: RFC 8785 refuses it
    A = "a"


@pytest.mark.parametrize(
    "document",
    [
        {"\U0001f600": 1, "\uffff": 2, "a": 3},  # UTF-16 order differs from code point order
        {"caf\u00e9": 1, "cafe": 2},
        {"n": 2**53 - 1, "m": -(2**53 - 1)},
        {"n": 2**53},  # refused by RFC 8785
        {"f": 1e16, "g": 1.2345678901234568e20, "h": 1e21, "i": 1e-6, "j": 1e-7, "k": 5e-324},
        {"f": float("nan")},
        {"f": float("inf")},
        {"zero": 0.0, "neg_zero": -0.0, "whole": [1.0, -3.0, 2.0**52], "fraction": 0.35},
        {"lone": "\ud800"},
        {1: "integer key"},
        {"colour": Colour.RED},  # a str subclass: RFC 8785 writes its value
        {"level": Level.HIGH, "odd": Odd.A, "plain": Plain.A},  # an IntEnum, a (str, Enum) mixin
        {"ordered": OrderedDict([("b", 1.0), ("a", [Colour.RED, Level.HIGH])])},
        {"big": Level.HUGE},  # an IntEnum beyond 2**53: refused as the int is
        {"id": uuid.UUID(int=1)},  # orjson writes these; RFC 8785 refuses them
        {"at": datetime(2026, 1, 1, tzinfo=UTC)},
        ("a", [1, (2.0, None)]),
        {"deep": [[[[[1.5, {"x": [2.0]}]]]]]},
    ],
)
def test_documents_at_the_edges_are_written_or_refused_as_rfc8785_does(document):
    _same_as_rfc8785(document)


def test_nesting_beyond_orjson_s_limit_is_written_by_rfc8785():
    document: list = [1]
    for _ in range(300):
        document = [document]
    assert canonical_bytes(document) == rfc8785.dumps(document)


def test_a_decision_context_takes_the_orjson_path_and_is_not_changed(monkeypatch):
    context = {
        "signal": {"signal_id": "s-1", "source": "github", "ts": "2026-11-22T08:00:00+00:00"},
        "time_bucket": {"hour": 8, "weekday": "sun"},
        "recent_signals": [{"signal_id": f"s-{n}", "event_type": "ci.check_run.failed"} for n in range(10)],
        "quiet_hours": {"start": 22, "end": 7, "timezone": "UTC"},
    }
    before = orjson.dumps(context)
    monkeypatch.setattr(canonical.rfc8785, "dumps", lambda _: pytest.fail("rfc8785 was needed"))
    digest = sha256_digest(context)
    assert digest.startswith("sha256:") and len(digest) == 71
    assert orjson.dumps(context) == before  # whole floats are replaced in a copy, never in place


def test_whole_floats_are_made_integers_in_a_copy():
    body = {"risk_score": 0.0, "nested": [{"x": 2.0}], "kept": [1, "a"]}
    assert canonical_bytes(body) == b'{"kept":[1,"a"],"nested":[{"x":2}],"risk_score":0}'
    assert body == {"risk_score": 0.0, "nested": [{"x": 2.0}], "kept": [1, "a"]}
    assert isinstance(body["risk_score"], float) and not math.isnan(body["risk_score"])
