"""Settings for the MMM Engine, read from the environment with embedded defaults.

Two running modes (DESIGN.md "Running modes"):

* embedded default (no environment): SQLite, local-memory cache, Celery tasks run eagerly,
  a local Ed25519 key for tokens generated into ``LOCAL_STATE_DIR`` on first use;
* services: ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (cache, fatigue counters) and
  ``CELERY_BROKER_URL`` (RabbitMQ or Redis) switch each part to its real service.

Every variable is documented in ``.env.example``. Production (``DEBUG`` off) requires, with no
default, and refuses to start without (``mmm_project/checks.py``: management commands, WSGI/ASGI,
Celery): ``SECRET_KEY`` (50+ random characters), ``JWT_JWKS`` (the IAM's JSON Web Key Set, JSON
text or a file path), ``RECEIPT_SIGNING_KEY`` (base64 of a 32-byte Ed25519 seed) and
``WEBHOOK_ENCRYPTION_KEYS`` (Fernet keys, comma-separated). Set ``ALLOWED_HOSTS`` too (the default
is loopback only), and in services mode ``DATABASE_URL``, ``REDIS_URL`` and ``CELERY_BROKER_URL``.
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab

from mmm_project.observability.logs import logging_config
from mmm_project.residency.databases import database_settings, tenant_regions
from mmm_project.spectacular import SPECTACULAR_SETTINGS as OPENAPI_SETTINGS

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

# Writable folder for the embedded default's state (SQLite file, generated local keys).
LOCAL_STATE_DIR = Path(env.str("LOCAL_STATE_DIR", default=str(BASE_DIR / "var")))

# Production secrets (here and below) read as empty when unset: the system checks then name every
# missing one at once instead of the first. The embedded default may generate local keys only
# while DEBUG is on (LOCAL_KEYS; the test runner's later DEBUG=False does not change it).
LOCAL_KEYS = DEBUG
SECRET_KEY = env.str(
    "SECRET_KEY", default="insecure-embedded-default-do-not-use-in-production" if DEBUG else ""
)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mmm_project.apps.MMMProjectConfig",
    "decisions",
    "playbooks",
    "preferences",
    "experiments",
    "receipts",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "mmm_project.observability.request_id.RequestIdMiddleware",
    "mmm_project.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mmm_project.residency.middleware.ResidencyMiddleware",  # after sessions: the admin's region
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "mmm_project.urls"
WSGI_APPLICATION = "mmm_project.wsgi.application"
ASGI_APPLICATION = "mmm_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases, one per region (NFR-3 data residency, docs/data-residency.md) ---------------------
# Embedded default: a SQLite file under LOCAL_STATE_DIR. Services mode: DATABASE_URL (the default
# region), e.g. postgres://user:pass@127.0.0.1:5432/mmm; each DATABASE_URL_<REGION> adds a region
# (alias <region>, lower case) and TENANT_REGIONS (tenant-a=eu,tenant-b=eu) pins tenants to it.
DATABASES = database_settings(env, LOCAL_STATE_DIR)
# The decide's lookup and write, prepared once per PostgreSQL connection (mmm_project.database.prepared);
# false behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode < 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
TENANT_REGIONS = tenant_regions(env)
# No router with one region: behaviour and cost exactly as without residency.
DATABASE_ROUTERS = ["mmm_project.residency.router.RegionRouter"] if len(DATABASES) > 1 else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (fatigue counters, policy/preference caches) -----------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # Seconds: a Redis that does not answer fails fast instead of stalling decide.
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
                "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=1.0),
            },
            "KEY_PREFIX": "mmm",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "mmm-embedded",
        }
    }

# --- Celery ----------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
SERVICES_MODE = bool(CELERY_BROKER_URL)
# Embedded default: no broker, tasks run in the calling process (eagerly), so the demo needs no
# worker. Services mode: tasks go through the broker to separate worker processes.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes the database connections around every task unless set (then every N tasks):
# workers keep them as the web does (mmm_project/processes/worker.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)  # seconds
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)  # seconds
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues by task-name prefix (Celery 5.7 deprecates the per-task ``queue`` attribute).
# Workers consume all of them (Procfile); split them across worker pools when one needs isolation.
CELERY_TASK_ROUTES = {
    "retention.*": {"queue": "maintenance"},
    "privacy.*": {"queue": "maintenance"},
    "receipts.*": {"queue": "receipts"},
    "ingest.*": {"queue": "ingest"},
    "llm.*": {"queue": "llm"},
    "delivery.*": {"queue": "delivery"},
}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request tries a down broker once instead of retrying for the whole connect
# timeout; workers reconnect through their own loop (broker_connection_retry).
PUBLISH_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = dict(PUBLISH_TRANSPORT_OPTIONS)
CELERY_TIMEZONE = "UTC"
# Beat's schedule (each entry's last run) under LOCAL_STATE_DIR, created if missing.
CELERY_BEAT_SCHEDULE_FILENAME = str(LOCAL_STATE_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "mmm_project.processes.beat:LocalStateScheduler"
# Operations: task-sent events carry queue and routing key (Flower); Celery keeps its hands off
# logging, which is the JSON LOGGING below in every process (mmm_project/celery.py).
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False


def _every(task: str, variable: str, default: float) -> dict:
    """A beat entry running ``task`` every ``$variable`` seconds."""
    return {"task": task, "schedule": env.float(variable, default=default)}


CELERY_BEAT_SCHEDULE = {
    "receipts-sweep": _every("receipts.sweep", "RECEIPT_SWEEP_INTERVAL_SECONDS", 60),
    # backstop of the receipt log's after-commit append (receipts.ledger)
    "receipt-log-sweep": _every("receipts.log_sweep", "RECEIPT_LOG_SWEEP_SECONDS", 5.0),
    "ingest-sweep": _every("ingest.sweep", "INGEST_SWEEP_INTERVAL_SECONDS", 60),
    "delivery-sweep": _every("delivery.sweep", "DELIVERY_SWEEP_INTERVAL_SECONDS", 60),
    "deletion-sweep": _every("privacy.sweep", "DELETION_SWEEP_INTERVAL_SECONDS", 300),
    "retention-purge": {  # daily at a fixed UTC time (NFR-3), not "every 24 h from beat's start"
        "task": "retention.purge",
        "schedule": crontab(
            minute=env.int("RETENTION_PURGE_MINUTE", 30), hour=env.int("RETENTION_PURGE_HOUR", 3)
        ),
    },
}
RETENTION_MAX_BATCHES_PER_RUN = env.int("RETENTION_MAX_BATCHES_PER_RUN", default=200)
# Days a rejected-signal record (reason and message shape, no content) is kept (spec 8: logs 30 days).
REJECTED_SIGNAL_RETENTION_DAYS = env.int("REJECTED_SIGNAL_RETENTION_DAYS", default=30)

# --- Authentication (spec 12.8, NFR-7) -------------------------------------------------------------
# JWT_JWKS: a JSON Web Key Set (RFC 7517), as JSON text or a file path, holding the public keys
# accepted for bearer tokens (OKP/Ed25519 -> EdDSA, RSA -> RS256). Embedded default: a local
# Ed25519 key generated under LOCAL_STATE_DIR/keys, whose private half signs `mint_token`.
JWT_JWKS = env.str("JWT_JWKS", default="")
JWT_ISSUER = env.str("JWT_ISSUER", default="")
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="")
JWT_LEEWAY_SECONDS = env.int("JWT_LEEWAY_SECONDS", default=10)
# HS256 shared secret: honoured only while DEBUG is on (local experiments), never in production.
JWT_HS256_SECRET = env.str("JWT_HS256_SECRET", default="")

# --- Receipts (FR-12) ----------------------------------------------------------------------------
# Ed25519 seed (base64 of 32 bytes), required with DEBUG off. Embedded default: generated under
# LOCAL_STATE_DIR/keys.
RECEIPT_SIGNING_KEY = env.str("RECEIPT_SIGNING_KEY", default="")
# ERIS (spec 12.6). Unset: receipts stay in the local ledger with status "local".
ERIS_URL = env.str("ERIS_URL", default="")
ERIS_TIMEOUT_SECONDS = env.float("ERIS_TIMEOUT_SECONDS", default=2.0)
RECEIPT_SWEEP_AGE_SECONDS = env.int("RECEIPT_SWEEP_AGE_SECONDS", default=60)
# Outboxes (receipts, deliveries; sweep ages above and below): a transient failure delays the next
# attempt base * 2^(attempts-1) s, at most the cap; a row is never given up for a transient error.
OUTBOX_BACKOFF_BASE_SECONDS = env.float("OUTBOX_BACKOFF_BASE_SECONDS", default=30.0)
OUTBOX_BACKOFF_MAX_SECONDS = env.float("OUTBOX_BACKOFF_MAX_SECONDS", default=3600.0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["mmm_project.auth.authentication.BearerJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["mmm_project.parsers.LimitedJSONParser"],
    "EXCEPTION_HANDLER": "mmm_project.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "mmm_project.openapi.MMMAutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = OPENAPI_SETTINGS

# --- Webhook secrets at rest: Fernet keys, comma-separated, the first encrypts ----------------------
# Required with DEBUG off. Embedded default: a key generated under LOCAL_STATE_DIR/keys.
WEBHOOK_ENCRYPTION_KEYS = env.str("WEBHOOK_ENCRYPTION_KEYS", default="")

# --- Peers on the decide path (spec 12, NFR-1, NFR-6). Unset URL: the embedded default. -------------
# Seconds a peer's circuit breaker stays open (after 5 consecutive failures) before one trial call.
PEER_BREAKER_RESET_SECONDS = env.float("PEER_BREAKER_RESET_SECONDS", default=60.0)
IAM_URL = env.str("IAM_URL", default="")
IAM_TIMEOUT_SECONDS = env.float("IAM_TIMEOUT_SECONDS", default=2.0)
GOLD_STANDARDS_URL = env.str("GOLD_STANDARDS_URL", default="")
GOLD_STANDARDS_TIMEOUT_SECONDS = env.float("GOLD_STANDARDS_TIMEOUT_SECONDS", default=0.5)
LLM_GATEWAY_URL = env.str("LLM_GATEWAY_URL", default="")
LLM_GATEWAY_TIMEOUT_SECONDS = env.float("LLM_GATEWAY_TIMEOUT_SECONDS", default=3.0)
POLICY_URL = env.str("POLICY_URL", default="")
POLICY_TIMEOUT_SECONDS = env.float("POLICY_TIMEOUT_SECONDS", default=0.5)
DATA_GOVERNANCE_URL = env.str("DATA_GOVERNANCE_URL", default="")
DATA_GOVERNANCE_TIMEOUT_SECONDS = env.float("DATA_GOVERNANCE_TIMEOUT_SECONDS", default=0.5)
UBI_URL = env.str("UBI_URL", default="")
UBI_TIMEOUT_SECONDS = env.float("UBI_TIMEOUT_SECONDS", default=1.0)

# --- Delivery to surfaces (FR-8, spec 12.4) --------------------------------------------------------------
# Alerting & Notification base URL; unset: alert-surface actions are recorded, not pushed.
ALERTING_URL = env.str("ALERTING_URL", default="")
ALERTING_TIMEOUT_SECONDS = env.float("ALERTING_TIMEOUT_SECONDS", default=2.0)
# Edge Agent (IDE surface: POST /v1/edge/mmm/nudges) and CI (POST /v1/ci/mmm/annotations); unset:
# the IDE pulls its nudges and CI reads the decision.
EDGE_AGENT_URL = env.str("EDGE_AGENT_URL", default="")
EDGE_AGENT_TIMEOUT_SECONDS = env.float("EDGE_AGENT_TIMEOUT_SECONDS", default=2.0)
CI_DELIVERY_URL = env.str("CI_DELIVERY_URL", default="")
CI_DELIVERY_TIMEOUT_SECONDS = env.float("CI_DELIVERY_TIMEOUT_SECONDS", default=2.0)
DELIVERY_SWEEP_AGE_SECONDS = env.int("DELIVERY_SWEEP_AGE_SECONDS", default=60)

# --- Event streams (spec 11.9) -----------------------------------------------------------------------
# kombu URL for mmm.decisions / mmm.outcomes / mmm.admin_config; defaults to the Celery broker in
# services mode; empty in the embedded default (no events).
EVENTS_BROKER_URL = env.str("EVENTS_BROKER_URL", default=CELERY_BROKER_URL if SERVICES_MODE else "")
# Broker topics consumed by `manage.py consume_signals`, and the tenants taken from the UBI topic
# (comma-separated; empty: every tenant).
INGEST_BROKER_URL = env.str("INGEST_BROKER_URL", default=CELERY_BROKER_URL if SERVICES_MODE else "")
INGEST_UBI_TENANTS = env.list("INGEST_UBI_TENANTS", default=[])

# --- Ingestion (FR-1) --------------------------------------------------------------------------------
# Seconds a stored signal may wait undecided before the sweep re-enqueues it.
# A signed GitHub body seen again under another X-GitHub-Delivery within this window is a replay.
GITHUB_DEDUPE_WINDOW_SECONDS = env.int("GITHUB_DEDUPE_WINDOW_SECONDS", default=7 * 24 * 3600)
INGEST_SWEEP_AGE_SECONDS = env.int("INGEST_SWEEP_AGE_SECONDS", default=60)
# A worker's claim on a signal (status "deciding") older than this is released by the sweep: the
# worker died mid-decision (longer than the task hard time limit, so never a live claim).
INGEST_CLAIM_TIMEOUT_SECONDS = env.int("INGEST_CLAIM_TIMEOUT_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30)

# --- Metrics -----------------------------------------------------------------------------------------
# prometheus_client's multiprocess mode writes one file per process here and fails on a missing
# folder; any process may start first, so it is created here (gunicorn.conf.py empties it).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
# They carry tenant ids (NFR-5): scrapers from these CIDRs or with "Authorization: Bearer METRICS_TOKEN"
# (behind a reverse proxy REMOTE_ADDR is the proxy's: use the token there).
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Request limits ----------------------------------------------------------------------------------
# Bytes. Signals and webhook payloads larger than this are refused with a 400 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=512 * 1024)
# Deeper JSON bodies are refused with a 400 (GitHub's nest about 8 levels; 1,000 would exhaust recursion).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)
# Seconds a signal's `ts` may lie in the future (producers' clock skew); later ones are refused.
SIGNAL_TS_MAX_FUTURE_SECONDS = env.int("SIGNAL_TS_MAX_FUTURE_SECONDS", default=300)
DECIDE_LATENCY_BUDGET_SECONDS = {  # NFR-1, per surface: a decide past it answers no actions (degraded)
    s: env.float(f"DECIDE_LATENCY_BUDGET_{s.upper()}_SECONDS", default=d)
    for s, d in (("ide", 0.15), ("ci", 0.5))
}

# --- Security headers (NFR-7) ------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin", not "no-referrer": with no referrer Chromium sends "Origin: null" on the admin's
# login form and Django's CSRF origin check refuses it (403); cross-origin requests still get none.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
HSTS_SECONDS = 31536000  # sent on every response by SecurityHeadersMiddleware (NFR-7)
# `check --deploy` looks for HSTS in SECURE_HSTS_SECONDS only; it is sent by the middleware above
# (max-age only, as NFR-7 states it; Django's setting would add subdomain and preload warnings).
SILENCED_SYSTEM_CHECKS = ["security.W004"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

# --- Static files (Django admin assets, served by WhiteNoise) ----------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = LOCAL_STATE_DIR / "static"

LANGUAGE_CODE, TIME_ZONE, USE_I18N, USE_TZ = "en-us", "UTC", False, True

# --- Logging: JSON lines; no payloads, e-mails, names or secrets (FR-15, NFR-7) -----------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_config(LOG_LEVEL)
