"""Worker life-cycle hooks: logging, queue declarations, announcing the node, task log ids."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.signals import (
    celeryd_after_setup,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_shutdown,
)
from sqlalchemy.exc import SQLAlchemyError

from storage.database import make_engine, make_session_factory, session_scope
from storage.models import WorkerNode, utcnow
from storage.settings import Settings
from worker import log_context
from worker.media.pdf_pages import poppler_missing
from worker.queues import TRANSCODE_TASK, declare_all, job_id_of

log = logging.getLogger(__name__)


@setup_logging.connect
def _configure_logging(loglevel: int | str | None = None, **_: Any) -> None:
    # Connected, this replaces Celery's own set-up: one handler, our format, the ids.
    log_context.configure_logging(Settings.from_env().log_format, loglevel or logging.INFO)


@task_prerun.connect
def _bind_task_ids(task_id: str = "", task: Any = None, args: Any = None, **_: Any) -> None:
    log_context.clear()
    log_context.bind(task_id=task_id)
    if task is not None and task.name == TRANSCODE_TASK:
        if (job_id := job_id_of(args)) is not None:
            log_context.bind(job_id=job_id)


@task_postrun.connect
def _clear_task_ids(**_: Any) -> None:
    log_context.clear()


@celeryd_after_setup.connect
def _announce(sender: str, instance: Any, **_: Any) -> None:
    """Declare the queues (dead letters included) and record this node for the ops page."""
    settings = Settings.from_env()
    if missing := poppler_missing():
        # Comic PDF jobs would fail on this node (internal error): say what to install.
        log.error(
            "%s not installed: comic PDFs cannot be drawn (apt install poppler-utils)",
            ", ".join(missing),
        )
    with instance.app.connection_for_write() as connection:
        declare_all(connection, settings)
    queues = ",".join(sorted(instance.app.amqp.queues.consume_from or instance.app.amqp.queues))
    _record(
        settings,
        sender,
        pid=os.getpid(),
        concurrency=int(instance.concurrency or 1),
        queues=queues,
        started_at=utcnow(),
        last_seen_at=utcnow(),
        stopped_at=None,
    )


@worker_shutdown.connect
def _stopped(sender: Any = None, **_: Any) -> None:
    name = getattr(sender, "hostname", None)
    if name:
        _record(Settings.from_env(), name, stopped_at=utcnow())


def _record(settings: Settings, name: str, **values: Any) -> None:
    # The main worker process forks its pool later: use a private engine and close it, so no
    # connection is shared across the fork.
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            node = session.get(WorkerNode, name) or WorkerNode(name=name)
            for key, value in values.items():
                setattr(node, key, value)
            session.add(node)
            session.commit()
    except SQLAlchemyError as exc:
        log.warning("could not record worker %s in the database: %s", name, exc)
    finally:
        engine.dispose()
