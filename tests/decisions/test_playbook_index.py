"""The trigger lookup goes through the (tenant_id, event_type, source) index (NFR-1, PT-MMM-02).

The timing comparison of 10 against 10,000 playbooks is a benchmark (bench/playbook_scale.py);
this test only checks that the database can and does answer the lookup through the index.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from decisions.engine.matching import event_type_patterns
from mmm_project.vocabulary import Severity
from playbooks.models import PlaybookTrigger
from playbooks.selectors import playbook_candidates
from tests.factories import mirror_playbook, publish_playbook

pytestmark = pytest.mark.django_db


def _lookup_queryset():
    return PlaybookTrigger.objects.for_tenant("tenant-a").filter(
        event_type__in=event_type_patterns("ci.check_run.failed"),
        source__in=["github", "*"],
        min_severity_rank__lte=Severity.rank("high"),
    )


def test_trigger_lookup_uses_the_index():
    for i in range(30):
        publish_playbook(mirror_playbook(name=f"other-{i}", event_type=f"deploy.kind{i}"))
    publish_playbook(mirror_playbook(name="ci"))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # With a few rows the planner prefers a sequential scan; forbid it to prove the
            # index serves this query shape.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = _lookup_queryset().explain()
    assert "mmm_trigger_lookup" in plan, plan


def test_candidates_are_only_the_fitting_published_versions():
    for i in range(5):
        publish_playbook(mirror_playbook(name=f"deploy-{i}", event_type="deploy.failed"))
    publish_playbook(mirror_playbook(name="ci-exact"))
    publish_playbook(mirror_playbook(name="ci-prefix", event_type="ci.*"))
    publish_playbook(mirror_playbook(name="everything", event_type="*"))
    publish_playbook(
        mirror_playbook(name="gitlab-only", triggers=[{"event_type": "ci.*", "source": "gitlab"}])
    )
    publish_playbook(
        mirror_playbook(name="critical-only", triggers=[{"event_type": "ci.*", "min_severity": "critical"}])
    )
    publish_playbook(mirror_playbook(name="other-tenant"), tenant_id="tenant-b")
    found = playbook_candidates(
        tenant_id="tenant-a", event_type="ci.check_run.failed", source="github", severity="high"
    )
    assert [c.playbook_name for c in found] == ["ci-exact", "ci-prefix", "everything"]
