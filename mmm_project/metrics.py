"""Prometheus metrics named by FR-15 and NFR-1. Labels never carry actor ids or content."""

from prometheus_client import Counter, Histogram

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
