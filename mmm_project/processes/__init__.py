"""The service's operating-system processes (gunicorn workers, Celery pool processes): what each
does once it has loaded the app (``memory``)."""
