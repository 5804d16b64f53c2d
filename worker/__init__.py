"""The Celery app and its thin tasks; media code lives in `worker.media`."""
