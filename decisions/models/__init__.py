"""The decisions app's models, one module per domain; Django loads them all from here.

- ``decisions.models.decisions``: Decision, Action, Outcome (the decide flow);
- ``decisions.models.approvals``: DualChannelApproval (FR-6);
- ``decisions.intake.models``: Signal, RejectedSignal, WebhookEndpoint, WebhookRoute (signals in);
- ``decisions.delivery.models``: Delivery, ActionRevision, LLMUsage (delivery and LLM enrichment);
- ``decisions.privacy.models``: ActorDeletionRequest (forgetting an actor).

All keep the ``decisions`` app label and their tables, so the migrations are unchanged.
"""

from decisions.delivery.models import ActionRevision, Delivery, DeliveryStatus, LLMUsage
from decisions.intake.models import (
    RejectedSignal,
    Signal,
    SignalStatus,
    WebhookEndpoint,
    WebhookProvider,
    WebhookRoute,
)
from decisions.models.approvals import ApprovalStatus, DualChannelApproval
from decisions.models.decisions import Action, Decision, LLMStatus, Outcome
from decisions.privacy.models import ActorDeletionRequest, DeletionStatus

__all__ = (
    "Action",
    "ActionRevision",
    "ActorDeletionRequest",
    "ApprovalStatus",
    "Decision",
    "DeletionStatus",
    "Delivery",
    "DeliveryStatus",
    "DualChannelApproval",
    "LLMStatus",
    "LLMUsage",
    "Outcome",
    "RejectedSignal",
    "Signal",
    "SignalStatus",
    "WebhookEndpoint",
    "WebhookProvider",
    "WebhookRoute",
)
