"""A peer configured from the environment alone (``clients.base``, ``default_timeout``): the
Health & Reliability URL and timeout are read where the client is used, not in settings.py."""

from __future__ import annotations

from mmm_project.clients import health_reliability


def test_health_reliability_reads_its_url_and_timeout_from_the_environment(monkeypatch, settings):
    client = health_reliability.client
    monkeypatch.delenv("HEALTH_RELIABILITY_URL", raising=False)
    monkeypatch.delenv("HEALTH_RELIABILITY_TIMEOUT_SECONDS", raising=False)
    assert not client.configured and client.timeout == 0.5  # unset: the embedded default
    monkeypatch.setenv("HEALTH_RELIABILITY_URL", "http://127.0.0.1:18601")
    monkeypatch.setenv("HEALTH_RELIABILITY_TIMEOUT_SECONDS", "0.25")
    assert client.configured and client.base_url == "http://127.0.0.1:18601" and client.timeout == 0.25
    settings.HEALTH_RELIABILITY_URL = "http://127.0.0.1:18602"  # settings win (tests override them)
    settings.HEALTH_RELIABILITY_TIMEOUT_SECONDS = 1.5
    assert client.base_url == "http://127.0.0.1:18602" and client.timeout == 1.5
