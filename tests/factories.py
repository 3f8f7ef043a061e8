"""factory_boy factories for every model; tenant ids default to ``tenant-a``."""

from __future__ import annotations

import factory
from django.utils import timezone

from decisions.models import (
    Action,
    ActionRevision,
    ActorDeletionRequest,
    Decision,
    Delivery,
    DualChannelApproval,
    LLMUsage,
    Outcome,
    RejectedSignal,
    Signal,
    WebhookEndpoint,
    WebhookRoute,
)
from experiments.models import BanditArm, Experiment
from playbooks.models import Playbook, PlaybookStatus, PlaybookTrigger, PlaybookVersion
from preferences.models import ActorPreferences, TenantPolicy
from receipts.models import ActorKey, LogNode, Receipt, ReceiptKey, ReceiptLog, SignedTreeHead


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


class PlaybookTriggerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaybookTrigger

    version = factory.SubFactory(PlaybookVersionFactory)
    playbook = factory.SelfAttribute("version.playbook")
    tenant_id = factory.SelfAttribute("version.tenant_id")
    event_type = "ci.check_run.failed"


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


class BanditArmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BanditArm

    tenant_id = "tenant-a"
    experiment = factory.SubFactory(ExperimentFactory, type="bandit")
    variant = "control"


class ReceiptKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReceiptKey

    kid = factory.Sequence(lambda n: f"fixture-{n}")
    public_key = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"


class ReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Receipt

    tenant_id = "tenant-a"
    kind = "decision"
    payload = factory.LazyFunction(lambda: {"gate_id": "mmm"})
    signature = "unsigned-fixture"
    kid = "fixture"


class ActorDeletionRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActorDeletionRequest

    tenant_id = "tenant-a"
    actor_id = "actor-1"
    anonymous_id = factory.Sequence(lambda n: f"deleted-{n:016x}")
    requested_via = "api"


class ActorKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActorKey

    tenant_id = "tenant-a"
    actor_id = factory.Sequence(lambda n: f"actor-{n}")
    key = factory.LazyFunction(lambda: bytes(32))


def publish_playbook(document: dict, tenant_id: str = "tenant-a") -> Playbook:
    """Create and publish a playbook from a spec document through the real services."""
    from playbooks.services import playbook_create, playbook_publish

    playbook = playbook_create(tenant_id=tenant_id, document=document, actor_id="test-admin")
    return playbook_publish(playbook=playbook, actor_id="test-admin")


def mirror_playbook(name: str = "ci-mirror", event_type: str = "ci.check_run.failed", **extra) -> dict:
    """A one-action Mirror playbook document."""
    document = {
        "name": name,
        "triggers": [{"event_type": event_type}],
        "actions": [
            {
                "type": "mirror",
                "surfaces": ["ide", "ci"],
                "title": "CI failed on {{ context.branch }}",
                "body": "The run failed.",
            }
        ],
    }
    document.update(extra)
    return document


class RejectedSignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RejectedSignal

    tenant_id = "tenant-a"
    channel = "api"
    reason = "missing field"


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    tenant_id = "tenant-a"
    provider = "alertmanager"
    name = factory.Sequence(lambda n: f"endpoint-{n}")
    token_sha256 = factory.Sequence(lambda n: f"{n:064x}")


class WebhookRouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookRoute

    endpoint = factory.SubFactory(WebhookEndpointFactory, provider="github", token_sha256="")
    tenant_id = factory.SelfAttribute("endpoint.tenant_id")
    key = factory.Sequence(lambda n: f"installation:{n}")


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    action = factory.SubFactory(ActionFactory)
    tenant_id = factory.SelfAttribute("action.tenant_id")
    surface = "ide"
    status = "recorded"


class ActionRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionRevision

    action = factory.SubFactory(ActionFactory, type="mentor")
    tenant_id = factory.SelfAttribute("action.tenant_id")
    payload = factory.LazyFunction(lambda: {"title": "t", "body": "written"})
    safety_status = "pass"


class LLMUsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LLMUsage

    tenant_id = "tenant-a"
    day = factory.LazyFunction(lambda: timezone.now().date())
    tokens = 100


class ReceiptLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReceiptLog

    tenant_id = factory.Sequence(lambda n: f"tenant-log-{n}")
    root_hash = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    frontier = b""


class LogNodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LogNode

    tenant_id = "tenant-a"
    level = 0
    index = factory.Sequence(lambda n: n)
    hash = bytes(32)


class SignedTreeHeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SignedTreeHead

    tenant_id = "tenant-a"
    tree_size = factory.Sequence(lambda n: n + 1)
    payload = factory.LazyAttribute(lambda o: {"kind": "tree_head", "tree_size": o.tree_size})
    signature = "unsigned-fixture"
    kid = "fixture"
