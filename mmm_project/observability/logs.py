"""The ``LOGGING`` setting: JSON lines with ISO field names (FR-15), nothing that identifies people.

Django's request loggers keep only server errors: 4xx lines would carry request paths, which may
hold actor ids (NFR-3).
"""

from __future__ import annotations

from typing import Any


def logging_config(level: str) -> dict[str, Any]:
    """``dictConfig`` for every process kind: one JSON handler on the root logger at ``level``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "timestamp", "levelname": "level"},
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "ERROR"},
        },
    }
