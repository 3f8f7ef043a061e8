"""``python manage.py consume_signals [--topics a,b] [--broker-url URL]``: run the broker intake.

Reads ``pm3.signals.normalized``, ``ubi.behavioural_signals`` and ``detection.alerts`` (or the
topics given) from ``INGEST_BROKER_URL`` until stopped (SIGINT/SIGTERM). Works on any kombu
transport: ``amqp://`` (RabbitMQ), ``redis://``, ``confluentkafka://`` (Kafka).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from kombu import Connection

from decisions.intake.consumer import TOPICS, SignalConsumer

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Consume FR-1 signal envelopes from the broker topics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topics", default=",".join(TOPICS), help="comma-separated topics")
        parser.add_argument("--broker-url", default=None, help="kombu URL (default INGEST_BROKER_URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["broker_url"] or settings.INGEST_BROKER_URL
        if not url:
            raise CommandError("set INGEST_BROKER_URL (or CELERY_BROKER_URL), or pass --broker-url")
        topics = [t.strip() for t in options["topics"].split(",") if t.strip()]
        unknown = sorted(set(topics) - set(TOPICS))
        if unknown:
            raise CommandError(f"unknown topics: {', '.join(unknown)}; known: {', '.join(TOPICS)}")
        with Connection(url) as connection:
            # A log line (JSON on stdout like every process), not plain text.
            logger.info("consuming signals", extra={"topics": topics})
            SignalConsumer(connection, topics).run()
