"""``mmm_project.serializers.validate``: one serializer per class validates the hot paths' bodies;
its answers must be exactly what a fresh serializer's ``is_valid`` gives."""

from __future__ import annotations

import copy
import threading

import pytest
from rest_framework import serializers

from decisions.intake.envelope import SignalEnvelopeSerializer
from decisions.serializers import DecideInputSerializer, OutcomeInputSerializer
from mmm_project.serializers import _prototypes, validate, validated

DECIDE = {
    "tenant_id": "t1",
    "actor_id": "dev-1",
    "context": {"repo_id": "org/a", "roles": ["dev"]},
    "signal": {"source": "github", "event_type": "ci.check_run.failed", "severity": "high"},
}
BODIES = [
    (DecideInputSerializer, DECIDE),
    (DecideInputSerializer, {**DECIDE, "context": {"surface": "ci"}, "signal": {**DECIDE["signal"], "x": 1}}),
    (DecideInputSerializer, {**DECIDE, "actor_id": "someone@example.com"}),
    (DecideInputSerializer, {**DECIDE, "signal": {"source": 7, "event_type": "bad type!"}}),
    (DecideInputSerializer, {"tenant_id": "t1"}),
    (DecideInputSerializer, None),
    (DecideInputSerializer, [DECIDE]),
    (OutcomeInputSerializer, {"action_id": "5f0c6f7e-3a0e-4a43-9d6e-2f1d6f0f2b11", "result": "accepted"}),
    (OutcomeInputSerializer, {"action_id": "5f0c6f7e-3a0e-4a43-9d6e-2f1d6f0f2b11", "result": "dismissed"}),
    (OutcomeInputSerializer, {"action_id": "nope", "result": "accepted", "extra": True}),
    (
        SignalEnvelopeSerializer,
        {
            "signal_id": "s1",
            "tenant_id": "t1",
            "actor_id": "dev-1",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "ts": "2026-01-01T00:00:00Z",
            "context": {"repo_id": "org/a"},
        },
    ),
    (SignalEnvelopeSerializer, {"signal_id": "s1", "ts": "2026-01-01T00:00:00"}),
]


def _fresh(serializer_class, data):
    serializer = serializer_class(data=copy.deepcopy(data))
    if serializer.is_valid():
        return serializer.validated_data, {}
    return None, serializer.errors


@pytest.mark.parametrize(("serializer_class", "data"), BODIES)
def test_same_answer_as_a_fresh_serializer(serializer_class, data):
    # Twice: the second call runs on the reused instance after whatever the first left behind.
    for _ in range(2):
        assert validate(serializer_class, copy.deepcopy(data)) == _fresh(serializer_class, data)


def test_answers_do_not_leak_between_calls():
    first = validated(DecideInputSerializer, DECIDE)
    with pytest.raises(serializers.ValidationError) as refused:
        validated(DecideInputSerializer, {**DECIDE, "context": {"branch": 5}})
    assert refused.value.detail == {"context": {"branch": ["must be a string"]}}
    second = validated(
        DecideInputSerializer, {**DECIDE, "context": {}, "signal": {**DECIDE["signal"], "payload": {"a": 1}}}
    )
    assert first["context"] == {"repo_id": "org/a", "roles": ["dev"]}
    assert second["context"] == {}
    assert second["signal"]["payload"] == {"a": 1} and first["signal"]["payload"] == {}


def test_valid_input_copies_no_fields(monkeypatch):
    validated(DecideInputSerializer, DECIDE)  # the instance of this thread exists
    copies = []
    original = serializers.Field.__deepcopy__
    monkeypatch.setattr(
        serializers.Field, "__deepcopy__", lambda self, memo: copies.append(1) or original(self, memo)
    )
    validated(DecideInputSerializer, DECIDE)
    assert copies == []
    DecideInputSerializer(data=DECIDE).is_valid()
    assert copies  # what a fresh serializer costs, for comparison


def test_each_thread_has_its_own_instance():
    answers, instances = [], []

    def run(n):
        for i in range(50):
            body = {**DECIDE, "actor_id": f"dev-{n}-{i}"}
            answers.append(validated(DecideInputSerializer, body)["actor_id"] == f"dev-{n}-{i}")
        instances.append(_prototypes.__dict__[DecideInputSerializer])  # kept alive: ids stay distinct

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [True] * 200
    assert len({id(instance) for instance in instances}) == 4
