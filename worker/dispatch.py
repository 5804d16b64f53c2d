"""Publish a committed job to the workers, and find jobs that need publishing again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import EntryStatus, Job, JobState, utcnow

log = logging.getLogger(__name__)
# A job row younger than this may still be on its way to the broker from the web.
UNSENT_GRACE = timedelta(seconds=30)


def publish_job(session: Session, job: Job) -> bool:
    """Send a committed job's id to the queue; False (job left queued) when the broker is down."""
    from worker.tasks import transcode_entry  # the task module imports this one

    try:
        transcode_entry.apply_async(args=[job.id])
    except (BrokerError, OSError) as exc:
        log.error("job %s not published, broker unavailable: %s", job.id, exc)
        return False
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
            job.state = JobState.FAILED
            job.finished_at = now
            job.reason = f"处理 {job.attempts} 次均中断，已停止重试，请联系组委会 (gave up)"
            job.entry.follow(job, EntryStatus.FAILED)
            result.given_up.append(job.id)
        else:
            job.state = JobState.QUEUED
            job.published_at = None
            job.reason = "处理中断（工作进程无响应），已自动重新排队 (requeued)"
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
    job.state = JobState.QUEUED
    job.attempts = 0
    job.percent = 0.0
    job.eta_seconds = None
    job.reason = "已由运维人员重新排队 (requeued by an operator)"
    job.finished_at = None
    job.published_at = None
    job.entry.follow(job, EntryStatus.SUBMITTED)
    session.commit()
    return publish_job(session, job)
