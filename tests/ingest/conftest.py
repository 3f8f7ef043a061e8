"""Run on-commit callbacks (decisions, receipts, events) right after each request in these tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _committing(django_capture_on_commit_callbacks, monkeypatch):
    """Requests made through ``commit_after(...)`` run their on-commit work, as a real commit would."""
    import tests.ingest.commit as commit

    monkeypatch.setattr(commit, "capture", django_capture_on_commit_callbacks)
    yield
