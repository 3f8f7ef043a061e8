"""What a web or worker process keeps for its whole life, set aside from the garbage collector.

Once the app is loaded a process holds ~150,000 objects that live as long as it does: modules,
classes, settings, URL patterns, compiled templates. CPython's full collection (generation 2)
scans them all: ~77 ms each time on the 2-CPU benchmark machine, once every few hundred decides,
charged to whichever request triggered it (issue 13). ``freeze_loaded_objects`` moves them to
the collector's permanent generation (``gc.freeze``, Python 3.7+): full collections then scan
only what the process made since, and the frozen objects' pages are not written by the
collector any more.
"""

from __future__ import annotations

import gc


def freeze_loaded_objects() -> int:
    """Import the views (the URL configuration, otherwise imported by the first request), collect
    the start-up garbage, then freeze every object alive. Returns how many objects are frozen.

    Called by gunicorn's ``post_worker_init`` and Celery's ``worker_process_init``; calling it
    again freezes what was made in between too.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def pause_collections() -> None:
    """gunicorn ``pre_request``: no automatic collection while this request is answered."""
    gc.disable()


def resume_collections() -> None:
    """gunicorn ``post_request`` (the response written, the after-response work done): automatic
    collections again; those that fell due during the request run at the next allocation."""
    gc.enable()
