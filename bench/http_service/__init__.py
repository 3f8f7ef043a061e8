"""The service as ``bench/decide_http.py`` runs it: the project's settings and URLs plus one
floor endpoint, served by the same gunicorn processes."""
