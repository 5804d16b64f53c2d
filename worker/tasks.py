"""Thin Celery tasks: take an id, call `worker.jobs`, let passing faults retry with backoff."""

from __future__ import annotations

import contextlib
import functools
import glob
import logging
import os
import shutil
import tempfile
import time
from datetime import timedelta

from celery import Task
from celery.exceptions import Reject
from celery.signals import worker_process_init
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.database import make_engine, make_session_factory, session_scope
from storage.models import JobState
from storage.objects import ObjectStore
from storage.retention import prune_all, sweep_orphans
from storage.settings import Settings
from storage.uploads import drop_expired_uploads, forget_upload_starts
from worker import reasons
from worker.celery_app import celery
from worker.dispatch import sweep
from worker.jobs import TRANSIENT, after_error, process_job
from worker.ops.broker import BROKER_ERRORS
from worker.ops.nodes import record_seen
from worker.outbox import prune_outbox
from worker.queues import REPORT_FILE_TASK, STORAGE_SWEEP_TASK, SWEEP_TASK, TRANSCODE_TASK
from worker.report_files import FileGone, finish_file, sweep_report_files
from worker.report_files import process_report_file as process_file_of_report

log = logging.getLogger(__name__)

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
@celery.task(bind=True, name=TRANSCODE_TASK, max_retries=None)
def transcode_entry(self: Task, job_id: int) -> str:
    """Make the web assets of the original that job `job_id` points at."""
    settings, factory, store = _resources()
    try:
        return process_job(factory, store, settings, job_id, self.request.hostname or "").value
    except Exception as exc:  # after_error records it; only a job it failed returns
        then = after_error(factory, settings, job_id, exc, self.request.retries)
        if then.retry_in is not None:
            raise self.retry(exc=exc, countdown=then.retry_in) from exc
        if then.reject:
            raise Reject(then.reject, requeue=False) from exc
        if then.state is None:
            raise
        return then.state.value


@celery.task(bind=True, name=REPORT_FILE_TASK, max_retries=None)
def process_report_file(self: Task, file_id: int) -> str:
    """Make the images (or the short video) of activity report file `file_id`."""
    settings, factory, store = _resources()
    try:
        return process_file_of_report(factory, store, settings, file_id).value
    except FileGone:
        # The reporter removed the file before it was processed: nothing to do, no dead letter.
        log.info("report file %s: removed before processing; nothing to do", file_id)
        return "gone"
    except TRANSIENT as exc:
        retries = self.request.retries
        if retries >= settings.task_max_retries:
            reason = reasons.unavailable(retries, exc)
            finish_file(factory, file_id, JobState.FAILED, reason, "unavailable")
            return JobState.FAILED.value
        countdown = min(300, 5 * 2**retries)
        log.warning("report file %s: passing fault, retry in %s s: %s", file_id, countdown, exc)
        with contextlib.suppress(OperationalError):
            finish_file(factory, file_id, JobState.QUEUED, reasons.retrying(countdown, exc))
        raise self.retry(exc=exc, countdown=countdown) from exc
    except Exception as exc:
        log.exception("report file %s: unexpected error", file_id)
        finish_file(factory, file_id, JobState.FAILED, reasons.internal(exc), "internal")
        raise


@celery.task(name=SWEEP_TASK)
def sweep_jobs() -> dict[str, list[int]]:
    """Requeue stuck jobs and send unsent ones (run every SWEEP_INTERVAL_SECONDS by beat)."""
    settings, factory, store = _resources()
    with session_scope(factory) as session:
        result = sweep(
            session, timedelta(seconds=settings.stale_job_seconds), settings.max_attempts
        )
        files = sweep_report_files(session, timedelta(seconds=settings.stale_job_seconds))
        dropped = drop_expired_uploads(
            session, store, timedelta(hours=settings.upload_expiry_hours)
        )
        try:
            record_seen(session, celery, settings.inspect_timeout_seconds)
        except BROKER_ERRORS as exc:
            log.warning("sweep: could not ping the workers: %s", exc)
    if dropped:
        log.info("sweep: dropped %s abandoned uploads", len(dropped))
    if files.republished or files.failed:
        log.warning(
            "sweep: report files republished %s, failed %s", files.republished, files.failed
        )
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


@celery.task(name=STORAGE_SWEEP_TASK)
def sweep_storage() -> dict[str, int]:
    """Remove replaced originals and old orphans (every ORPHAN_SWEEP_INTERVAL_SECONDS)."""
    settings, factory, store = _resources()
    with session_scope(factory) as session:
        pruned = prune_all(session, store)
        report = sweep_orphans(session, store)
        # Kept a day at least, for whoever looks into an upload storm.
        keep = max(settings.upload_rate_window, timedelta(days=1))
        forgotten = forget_upload_starts(session, keep)
        messages = prune_outbox(session, timedelta(days=settings.outbox_keep_days))
    if pruned or report.removed or report.removed_parts or report.errors:
        log.info(
            "storage sweep: %s objects of replaced originals, %s orphans (%s bytes) and %s "
            "multipart uploads removed; %s errors",
            pruned,
            report.removed,
            report.removed_bytes,
            report.removed_parts,
            len(report.errors),
        )
    return {
        "pruned": pruned,
        "orphans_removed": report.removed,
        "orphan_bytes_removed": report.removed_bytes,
        "multipart_uploads_aborted": report.removed_parts,
        "upload_starts_forgotten": forgotten,
        "outbox_messages_deleted": messages,
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
