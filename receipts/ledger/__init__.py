"""The tamper-evident receipt ledger: a per-tenant Merkle tree log of receipts (RFC 9162).

``hashing``, ``tree`` and ``proofs`` are plain functions over bytes (no Django: the offline
verifier uses them); ``models``, ``services``, ``selectors``, ``audit`` and ``views`` are the
Django side (append, signed tree heads, proofs from stored nodes, whole-log verification).
"""
