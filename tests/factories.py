"""factory_boy factories for every model; tenant ids default to ``tenant-a``."""

from __future__ import annotations

import factory
from django.utils import timezone

from decisions.models import Action, Decision, DualChannelApproval, Outcome, Signal
from experiments.models import Experiment
from playbooks.models import Playbook, PlaybookStatus, PlaybookVersion
from preferences.models import ActorPreferences, TenantPolicy
from receipts.models import Receipt


class SignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signal

    tenant_id = "tenant-a"
    signal_id = factory.Sequence(lambda n: f"sig-{n}")
    actor_id = "actor-1"
    source = "github"
    event_type = "ci.check_run.failed"
    severity = "high"
    ts = factory.LazyFunction(timezone.now)


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    tenant_id = "tenant-a"
    actor_id = "actor-1"
    policy_snapshot_id = "local-policy"


class PlaybookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playbook

    tenant_id = "tenant-a"
    name = factory.Sequence(lambda n: f"playbook-{n}")
    owner = "platform-team"


class PlaybookVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaybookVersion

    playbook = factory.SubFactory(PlaybookFactory)
    tenant_id = factory.SelfAttribute("playbook.tenant_id")
    version = 1
    triggers = factory.LazyFunction(lambda: [{"event_type": "ci.check_run.failed", "source": "github"}])
    actions = factory.LazyFunction(
        lambda: [{"type": "mirror", "surfaces": ["ide"], "title": "CI failed", "body": "The build failed."}]
    )


def published_playbook(**kwargs) -> Playbook:
    """A playbook with version 1 published."""
    version = PlaybookVersionFactory(**kwargs)
    playbook = version.playbook
    playbook.latest_version = version.version
    playbook.published_version = version
    playbook.status = PlaybookStatus.PUBLISHED
    playbook.save()
    return playbook


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    decision = factory.SubFactory(DecisionFactory)
    tenant_id = factory.SelfAttribute("decision.tenant_id")
    type = "mirror"
    surfaces = factory.LazyFunction(lambda: ["ide"])
    payload = factory.LazyFunction(lambda: {"title": "CI failed", "body": "The build failed."})


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outcome

    action = factory.SubFactory(ActionFactory)
    decision = factory.SelfAttribute("action.decision")
    tenant_id = factory.SelfAttribute("action.tenant_id")
    action_type = factory.SelfAttribute("action.type")
    actor_id = "actor-1"
    result = "shown"


class DualChannelApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DualChannelApproval

    action = factory.SubFactory(
        ActionFactory, type="multiplier", requires_consent=True, requires_dual_channel=True
    )
    decision = factory.SelfAttribute("action.decision")
    tenant_id = factory.SelfAttribute("action.tenant_id")
    actor_id = "actor-1"


class TenantPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantPolicy

    tenant_id = "tenant-a"


class ActorPreferencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActorPreferences

    tenant_id = "tenant-a"
    actor_id = "actor-1"


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experiment

    tenant_id = "tenant-a"
    name = factory.Sequence(lambda n: f"experiment-{n}")
    variants = factory.LazyFunction(lambda: [{"name": "control", "weight": 50}, {"name": "b", "weight": 50}])


class ReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Receipt

    tenant_id = "tenant-a"
    kind = "decision"
    payload = factory.LazyFunction(lambda: {"gate_id": "mmm"})
    signature = "unsigned-fixture"
    kid = "fixture"
