"""The Celery application: broker, queues and reliability options, declared in one place."""

from __future__ import annotations

from celery import Celery

from storage.settings import Settings
from worker.queues import (
    EXCHANGE,
    NOTIFY_SCAN_TASK,
    OUTBOX_SWEEP_TASK,
    STORAGE_SWEEP_TASK,
    SWEEP_TASK,
    task_queues,
    task_routes,
)


def configure_celery(app: Celery, settings: Settings) -> Celery:
    """Configure `app` for `settings` so that no job is lost."""
    if app.conf.broker_url != settings.broker_url:
        _drop_connection_pools(app)
    app.conf.update(
        broker_url=settings.broker_url,
        task_queues=task_queues(settings),
        task_routes=task_routes(settings),
        task_default_queue=settings.media_queue,
        task_default_exchange=EXCHANGE.name,
        task_default_routing_key=settings.media_queue,
        # Ack only after the task ran, and give the message back if the worker dies: a
        # killed worker's job is redelivered to another one instead of vanishing.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A task that fails on an unexpected error is rejected, not acknowledged, so its
        # message goes to the dead-letter queue where operators see it.
        task_acks_on_failure_or_timeout=False,
        # One message at a time: a long transcode does not hold other jobs hostage.
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        # Fail fast when publishing to a broker that is down, so the web can say so.
        broker_transport_options={"confirm_publish": True, "max_retries": 2},
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # The sweeper (periodic, run by `celery beat`): requeues jobs whose worker vanished.
        beat_schedule={
            "sweep-jobs": {
                "task": SWEEP_TASK,
                "schedule": float(settings.sweep_interval_seconds),
                "options": {"expires": float(settings.sweep_interval_seconds)},
            },
            # Replaced originals, and objects no row names once a day old (storage/retention).
            "sweep-storage": {
                "task": STORAGE_SWEEP_TASK,
                "schedule": float(settings.orphan_sweep_interval_seconds),
                "options": {"expires": float(settings.orphan_sweep_interval_seconds)},
            },
            # Messages whose publishing was lost, and ones stuck mid-send (worker/outbox).
            "sweep-outbox": {
                "task": OUTBOX_SWEEP_TASK,
                "schedule": float(settings.sweep_interval_seconds),
                "options": {"expires": float(settings.sweep_interval_seconds)},
            },
            # Reminders and the daily digest (judging/notification_scan); keys make it once.
            "scan-notifications": {
                "task": NOTIFY_SCAN_TASK,
                "schedule": float(settings.notify_scan_interval_seconds),
                "options": {"expires": float(settings.notify_scan_interval_seconds)},
            },
        },
    )
    # The app caches its queue declarations and router on first use; reconfigured (the web
    # does so with its own settings), a stale cache would declare queues without their
    # dead-letter arguments, which RabbitMQ refuses.
    for cached in ("queues", "default_queue", "router"):
        app.amqp.__dict__.pop(cached, None)
    app.amqp.flush_routes()
    return app


def _drop_connection_pools(app: Celery) -> None:
    # Pooled connections keep the broker they were made for; a new broker needs new ones.
    app._pool = None
    # Both pools live in kombu's registry, one per broker: let the app look up the new
    # broker's instead of closing ones that another app may share.
    app.amqp._producer_pool = None


# Workers start from this module (`celery -A worker.celery_app worker`) and read the
# environment; the web reconfigures the same app from its own settings in create_app.
celery = configure_celery(
    Celery(
        "footprints", include=["worker.tasks", "worker.share", "worker.signals", "web.outbox_task"]
    ),
    Settings.from_env(),
)
