"""Thin Celery tasks: take an id, call `worker.jobs`, let passing faults retry with backoff."""

from __future__ import annotations

import functools
import glob
import logging
import os
import shutil
import tempfile
import time
from datetime import timedelta

from celery import Task
from celery.signals import worker_process_init
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.database import make_engine, make_session_factory, session_scope
from storage.models import JobState
from storage.objects import ObjectStore, ObjectStoreError
from storage.settings import Settings
from storage.uploads import drop_expired_uploads
from worker.celery_app import celery
from worker.dispatch import sweep
from worker.jobs import JobGone, finish_job, process_job

log = logging.getLogger(__name__)

TRANSIENT = (ObjectStoreError, OperationalError)
# Temporary job folders older than this belong to no running job (the longest allowed
# transcode is far shorter).
LEFTOVER_AGE = 24 * 3600


@functools.cache
def _resources() -> tuple[Settings, sessionmaker[Session], ObjectStore]:
    # One engine and one S3 client per worker process, made on first use, not at import.
    settings = Settings.from_env()
    return settings, make_session_factory(make_engine(settings.database_url)), ObjectStore(settings)


# Bound to our app, not `shared_task`: Celery's "current app" is per thread, and in a threaded
# web server a shared task would publish through a default app with default settings.
@celery.task(bind=True, name="footprints.transcode_entry", max_retries=None)
def transcode_entry(self: Task, job_id: int) -> str:
    """Make the web assets of the original that job `job_id` points at."""
    settings, factory, store = _resources()
    try:
        return process_job(factory, store, settings, job_id).value
    except JobGone:
        log.error("job %s: no such job row; dropping the message", job_id)
        return "gone"
    except TRANSIENT as exc:
        retries = self.request.retries
        if retries >= settings.task_max_retries:
            log.error("job %s: giving up after %s retries: %s", job_id, retries, exc)
            finish_job(
                factory,
                job_id,
                JobState.FAILED,
                f"存储或数据库暂时不可用，已重试 {retries} 次 (storage unavailable): {exc}",
            )
            return JobState.FAILED.value
        countdown = min(300, 5 * 2**retries)
        log.warning(
            "job %s: passing fault, retry %s in %s s: %s", job_id, retries + 1, countdown, exc
        )
        try:
            finish_job(
                factory,
                job_id,
                JobState.QUEUED,
                f"存储暂时不可用，{countdown} 秒后自动重试 (retrying): {exc}",
            )
        except OperationalError:
            # The database itself is the fault: the retry below is all we can do now.
            log.warning("job %s: cannot record the retry while the database is down", job_id)
        raise self.retry(exc=exc, countdown=countdown) from exc


@celery.task(name="footprints.sweep_jobs")
def sweep_jobs() -> dict[str, list[int]]:
    """Requeue stuck jobs and send unsent ones (run every SWEEP_INTERVAL_SECONDS by beat)."""
    settings, factory, store = _resources()
    with session_scope(factory) as session:
        result = sweep(
            session, timedelta(seconds=settings.stale_job_seconds), settings.max_attempts
        )
        dropped = drop_expired_uploads(
            session, store, timedelta(hours=settings.upload_expiry_hours)
        )
    if dropped:
        log.info("sweep: dropped %s abandoned uploads", len(dropped))
    if result.requeued or result.republished or result.given_up:
        log.warning(
            "sweep: requeued %s, republished %s, gave up %s",
            result.requeued,
            result.republished,
            result.given_up,
        )
    return {
        "requeued": result.requeued,
        "republished": result.republished,
        "given_up": result.given_up,
    }


@worker_process_init.connect
def _remove_leftover_work_dirs(**_kwargs: object) -> None:
    # A worker killed mid-job cannot remove its temporary folder; the next one does.
    settings = Settings.from_env()
    root = settings.work_dir or tempfile.gettempdir()
    cutoff = time.time() - LEFTOVER_AGE
    for path in glob.glob(os.path.join(root, "footprints-job*-*")):
        try:
            if os.path.getmtime(path) < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
