"""Prometheus metrics named by FR-15 and NFR-1. Labels never carry actor ids or content.

Label values a caller chooses (a signal's ``source`` and ``event_type``) are bounded: known values
(``docs/event-taxonomy.md``) are kept, anything else is counted as ``other``, so no request can add
series without limit.
"""

import re

from prometheus_client import CollectorRegistry, Counter, Histogram

# Collectors computed at scrape time from shared state (the database), outside the per-process and
# multiprocess registries: /v1/mmm/metrics appends their output (apps register into it).
SCRAPE_REGISTRY = CollectorRegistry()

KNOWN_SOURCES = frozenset(
    {
        "github",
        "alertmanager",
        "ci",
        "ubi",
        "detection",
        "pm3",
        "edge_agent",
        "health_reliability",
        "cloudevents",
    }
)
KNOWN_EVENT_TYPES = re.compile(
    r"ci\.(check_run|check_suite|workflow_run|workflow_job|status)\.(failed|cancelled|succeeded)"
    r"|deploy\.(failed|succeeded|rolled_back)"
    r"|review\.pull_request\.(opened|reopened|synchronize|ready_for_review|closed|merged)"
    r"|review\.(changes_requested|approved|commented|dismissed)"
    r"|security\.(code_scanning|dependabot|secret_scanning)\.(opened|resolved)"
    r"|vcs\.push|incident\.(firing|resolved)|ci\.test\.flaky"
)


def source_label(source: str) -> str:
    """``source`` if it is a known producer, else ``other``."""
    return source if source in KNOWN_SOURCES else "other"


def event_type_label(event_type: str) -> str:
    """``event_type`` if it is in the taxonomy, else ``other``."""
    return event_type if KNOWN_EVENT_TYPES.fullmatch(event_type) else "other"


SIGNALS_RECEIVED = Counter(
    "mmm_signals_received_total", "Signals received.", ["tenant_id", "source", "event_type"]
)
SIGNALS_FAILED = Counter(
    "mmm_signals_failed_total",
    "Stored signals that cannot be decided (permanent errors: invalid data, unknown tenant).",
    ["reason"],
)
SIGNALS_DEFERRED = Counter(
    "mmm_signals_deferred_total",
    "Decisions of stored signals put off by a transient error (peer, database or cache); retried.",
    ["reason"],
)
SECRETS_REDACTED = Counter(
    "mmm_secrets_redacted_total", "Credentials found and redacted before storage, by kind.", ["kind", "where"]
)
SIGNAL_PAYLOAD_FIELDS_DROPPED = Counter(
    "mmm_signal_payload_fields_dropped_total",
    "Signal payload fields not stored (not on the source's allow-list, or not a scalar; NFR-3).",
    ["source"],
)
DECISIONS = Counter("mmm_decisions_total", "Decisions made.", ["tenant_id", "actor_type"])
ACTIONS = Counter("mmm_actions_total", "Actions proposed to actors.", ["tenant_id", "action_type"])
ACTIONS_SUPPRESSED = Counter(
    "mmm_actions_suppressed_total", "Candidate actions dropped by a gate.", ["tenant_id", "reason"]
)
ACTIONS_DELIVERED = Counter(
    "mmm_actions_delivered_total",
    "Action deliveries to surfaces by result.",
    ["tenant_id", "surface", "result"],
)
ACTIONS_ESCALATED = Counter(
    "mmm_actions_escalated_total",
    "Actions routed to a playbook's escalation surface after unacknowledged deliveries (FR-3).",
    ["tenant_id", "surface"],
)
ACTIONS_ACCEPTED = Counter("mmm_actions_accepted_total", "Actions accepted.", ["tenant_id", "action_type"])
DEGRADED_DECISIONS = Counter(
    "mmm_degraded_decisions_total", "Decisions made with a peer unavailable (NFR-6).", ["tenant_id", "peer"]
)
LLM_ENRICHMENTS = Counter("mmm_llm_enrichments_total", "LLM enrichment results.", ["tenant_id", "result"])
OUTCOMES = Counter("mmm_outcomes_total", "Outcomes recorded.", ["tenant_id", "result"])
DECISION_LATENCY = Histogram(
    "mmm_decision_latency_seconds",
    "Time to decide, seconds.",
    ["tenant_id"],
    buckets=(0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0),
)
ERIS_EMISSIONS = Counter(
    "mmm_eris_receipt_emission_total", "Receipt deliveries to ERIS by result.", ["tenant_id", "result"]
)
