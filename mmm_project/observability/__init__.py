"""What an operator sees of every process kind (web, worker, beat, intake): JSON logs with request
ids, metrics shared across processes, queue depth. Tracing is configured separately."""
