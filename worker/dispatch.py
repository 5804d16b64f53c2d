"""Publish a committed job to the workers, and find jobs that need publishing again."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.app.control import Control
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import EntryStatus, Job, JobState, utcnow
from worker import reasons
from worker.celery_app import celery
from worker.job_notices import tell_failed
from worker.queues import TRANSCODE_TASK

log = logging.getLogger(__name__)
# A job row younger than this may still be on its way to the broker from the web.
UNSENT_GRACE = timedelta(seconds=30)


def publish_job(session: Session, job: Job) -> bool:
    """Send a committed job's id to the queue; False (job left queued) when the broker is down."""
    task_id = uuid.uuid4().hex
    try:
        # By name: the task module imports this one, and the web need not load the worker's.
        celery.send_task(TRANSCODE_TASK, args=[job.id], task_id=task_id)
    except (BrokerError, OSError) as exc:
        log.error("job %s not published, broker unavailable: %s", job.id, exc)
        return False
    job.task_id = task_id
    job.published_at = utcnow()
    session.commit()
    return True


@dataclass
class SweepResult:
    requeued: list[int] = field(default_factory=list)
    republished: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)


def sweep(
    session: Session,
    stale_after: timedelta,
    max_attempts: int,
    now: datetime | None = None,
    publish: Callable[[Session, Job], bool] = publish_job,
) -> SweepResult:
    """Requeue running jobs that stopped reporting, and send jobs the broker never got.

    Safe to run from several places at once: rows are locked and skipped when taken.
    """
    now = now or utcnow()
    result = SweepResult()
    stuck = select(Job).where(Job.state == JobState.RUNNING, Job.updated_at < now - stale_after)
    requeued = []
    for job in session.scalars(stuck.with_for_update(skip_locked=True)).all():
        if job.attempts >= max_attempts:
            job.give_up(reasons.gave_up(job.attempts))
            tell_failed(session, job)
            result.given_up.append(job.id)
        else:
            job.requeue_stalled(reasons.stalled())
            requeued.append(job)
    session.commit()
    result.requeued = [job.id for job in requeued]
    unsent = select(Job).where(
        Job.state == JobState.QUEUED,
        Job.published_at.is_(None),
        Job.created_at < now - UNSENT_GRACE,
    )
    unsent_jobs = session.scalars(unsent.with_for_update(skip_locked=True)).all()
    for job in [*requeued, *(j for j in unsent_jobs if j not in requeued)]:
        if publish(session, job):
            result.republished.append(job.id)
    session.commit()
    return result


def requeue_job(session: Session, job: Job) -> bool:
    """Run a failed, rejected or stuck job again from the start (an operator's retry).

    Returns whether it reached the broker; unsent, it stays queued for the sweeper.
    """
    job.requeue(reasons.requeued_by_operator())
    session.commit()
    return publish_job(session, job)


def cancel_job(session: Session, job: Job, control: Control) -> bool:
    """Stop a queued or running job: mark it cancelled, revoke its task and kill its ffmpeg.

    The database decides: a message that still arrives later finds the job finished and does
    nothing. Returns False when the job had already finished.
    """
    if not job.cancel(reasons.cancelled_by_operator()):
        return False
    session.commit()
    if job.task_id:
        try:
            # SIGTERM ends the pool process running it; its ffmpeg dies with it (PDEATHSIG).
            control.revoke(job.task_id, terminate=True, signal="SIGTERM")
        except (BrokerError, OSError) as exc:
            log.error("job %s cancelled, but its task could not be revoked: %s", job.id, exc)
    return True


def requeue_failed(session: Session) -> tuple[int, int]:
    """Retry every failed job that is its entry's newest; returns (requeued, reached broker)."""
    failed = session.scalars(select(Job).where(Job.state == JobState.FAILED).order_by(Job.id))
    jobs = [
        job
        for job in failed.all()
        if job.entry.latest_job() is job and job.entry.status is not EntryStatus.WITHDRAWN
    ]
    sent = sum(requeue_job(session, job) for job in jobs)
    return len(jobs), sent
