#!/usr/bin/env python
"""Django's command-line utility for the MMM Engine."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")
    from django.core.management import execute_from_command_line

    from mmm_project import tracing

    # FR-15: the broker intake and every other command trace when OTEL_* names an exporter.
    tracing.setup("intake" if sys.argv[1:2] == ["consume_signals"] else "manage")

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
