"""Every RabbitMQ exchange and queue of the service, declared in this one place.

Long transcodes and short tasks (the sweeper) have queues of their own, so a sweep never
waits behind an hour of video. Both dead-letter into `<media queue>.dead`: a message that a
task rejects (its job row is gone, or it kept killing workers) or that failed on a bug lands
there, where operators see it, instead of vanishing or looping forever.
"""

from __future__ import annotations

from kombu import Connection, Exchange, Queue

from storage.settings import Settings

EXCHANGE = Exchange("footprints", type="direct", durable=True)
DEAD_EXCHANGE = Exchange("footprints.dead", type="direct", durable=True)
TRANSCODE_TASK = "footprints.transcode_entry"
SWEEP_TASK = "footprints.sweep_jobs"
STORAGE_SWEEP_TASK = "footprints.sweep_storage"
SHARE_POSTER_TASK = "footprints.share_poster"
SEND_MESSAGE_TASK = "footprints.send_message"
OUTBOX_SWEEP_TASK = "footprints.sweep_outbox"
NOTIFY_SCAN_TASK = "footprints.scan_notifications"
REPORT_FILE_TASK = "footprints.process_report_file"


def job_id_of(args: object) -> int | None:
    """The job id a transcode message carries as its first argument; None when it has none.

    Celery hands args over as a list or tuple, some versions (and `inspect active`) as
    their repr, "(7,)"; whatever else arrives, a dead letter too, gives None.
    """
    if isinstance(args, str):
        args = args.strip("()[], ").split(",")
    if not isinstance(args, list | tuple) or not args:
        return None
    try:
        return int(args[0])
    except (TypeError, ValueError):
        return None


def dead_queue_name(settings: Settings) -> str:
    """The dead-letter queue's name."""
    return f"{settings.media_queue}.dead"


def task_queues(settings: Settings) -> list[Queue]:
    """The queues workers consume: transcodes, then short tasks."""
    dead_letters = {
        "x-dead-letter-exchange": DEAD_EXCHANGE.name,
        "x-dead-letter-routing-key": dead_queue_name(settings),
    }
    return [
        Queue(name, EXCHANGE, routing_key=name, durable=True, queue_arguments=dead_letters)
        for name in (settings.media_queue, settings.short_queue)
    ]


def dead_letter_queue(settings: Settings) -> Queue:
    """The queue that keeps dead letters until an operator deals with them (nobody consumes)."""
    name = dead_queue_name(settings)
    return Queue(name, DEAD_EXCHANGE, routing_key=name, durable=True)


def all_queues(settings: Settings) -> list[Queue]:
    """Every queue, in the order the ops page shows them."""
    return [*task_queues(settings), dead_letter_queue(settings)]


def task_routes(settings: Settings) -> dict[str, dict[str, str]]:
    """Which queue each task goes to."""
    return {
        TRANSCODE_TASK: {"queue": settings.media_queue},
        REPORT_FILE_TASK: {"queue": settings.media_queue},
        SWEEP_TASK: {"queue": settings.short_queue},
        STORAGE_SWEEP_TASK: {"queue": settings.short_queue},
        SHARE_POSTER_TASK: {"queue": settings.short_queue},
        SEND_MESSAGE_TASK: {"queue": settings.short_queue},
        OUTBOX_SWEEP_TASK: {"queue": settings.short_queue},
        NOTIFY_SCAN_TASK: {"queue": settings.short_queue},
    }


def declare_all(connection: Connection, settings: Settings) -> None:
    """Declare every exchange and queue (idempotent), so dead letters have somewhere to go."""
    channel = connection.default_channel
    for queue in all_queues(settings):
        queue(channel).declare()
