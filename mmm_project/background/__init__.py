"""Work that outlives a request (NFR-6): handing it to Celery by task name (``queueing``), the
outbox of rows a task sends and a sweep re-enqueues (``outbox``), and what a failure means for it,
transient or permanent (``transient``)."""
