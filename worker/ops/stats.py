"""Jobs by state, throughput, the backlog's end, and the figures `/metrics` adds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Job, JobState, utcnow

THROUGHPUT_WINDOW = timedelta(hours=1)
RECENT_FAILURES = 50


@dataclass
class JobReport:
    counts: dict[str, int]
    running: list[Job]
    failures: list[Job]
    ready_last_hour: int
    video_minutes_last_hour: float
    average_job_seconds: float | None
    backlog: int
    backlog_clears_in: float | None  # seconds; None when there is no history or no worker


def job_report(session: Session, slots: int, now: datetime | None = None) -> JobReport:
    """Jobs by state, the running ones, recent failures, throughput and the backlog's end."""
    now = now or utcnow()
    counts = {state.value: 0 for state in JobState}
    for state, count in session.execute(select(Job.state, func.count()).group_by(Job.state)):
        counts[state.value] = count
    running = list(
        session.scalars(select(Job).where(Job.state == JobState.RUNNING).order_by(Job.started_at))
    )
    failures = list(
        session.scalars(
            select(Job)
            .where(Job.state.in_([JobState.FAILED, JobState.REJECTED, JobState.CANCELLED]))
            .order_by(Job.finished_at.desc(), Job.id.desc())
            .limit(RECENT_FAILURES)
        )
    )
    since = now - THROUGHPUT_WINDOW
    ready_count, media_seconds = session.execute(
        select(func.count(), func.coalesce(func.sum(Job.media_seconds), 0.0)).where(
            Job.state == JobState.READY, Job.finished_at >= since
        )
    ).one()
    # Before any job has finished, the running ones' pace is the best guess there is.
    average = average_job_seconds(session, now) or projected_job_seconds(running, now)
    return JobReport(
        counts=counts,
        running=running,
        failures=failures,
        ready_last_hour=int(ready_count),
        video_minutes_last_hour=round(float(media_seconds) / 60, 1),
        average_job_seconds=average,
        backlog=counts[JobState.QUEUED.value] + counts[JobState.RUNNING.value],
        backlog_clears_in=backlog_eta(
            counts[JobState.QUEUED.value], [job.eta_seconds for job in running], average, slots
        ),
    )


def average_job_seconds(
    session: Session, now: datetime, sample: int = 50, window: timedelta = timedelta(days=1)
) -> float | None:
    """Mean wall time of the newest jobs made ready within `window` before `now`."""
    rows = session.execute(
        select(Job.started_at, Job.finished_at)
        .where(
            Job.state == JobState.READY,
            Job.started_at.is_not(None),
            Job.finished_at.between(now - window, now),
        )
        .order_by(Job.finished_at.desc())
        .limit(sample)
    ).all()
    spans = [(end - start).total_seconds() for start, end in rows if start and end]
    return sum(spans) / len(spans) if spans else None


def projected_job_seconds(running: list[Job], now: datetime) -> float | None:
    """Mean total time of running jobs, projected from their progress so far."""
    totals = [
        (now - job.started_at).total_seconds() * 100 / job.percent
        for job in running
        if job.started_at is not None and job.percent >= 5
    ]
    return sum(totals) / len(totals) if totals else None


def backlog_eta(
    queued: int, running_etas: list[float | None], average: float | None, slots: int
) -> float | None:
    """Seconds until queued and running jobs are all done, with `slots` jobs at a time.

    Running jobs count their own time left (or a whole average when they have not said);
    queued ones an average each. None when nothing tells how long a job takes, or when no
    worker is there to do it.
    """
    if queued == 0 and not running_etas:
        return 0.0
    if average is None or slots <= 0:
        return None
    left = sum(average if eta is None else eta for eta in running_etas) + queued * average
    return left / slots


def finished_job_seconds(session: Session) -> list[float]:
    """Wall time of every finished job that ran (for the duration histogram)."""
    rows = session.execute(
        select(Job.started_at, Job.finished_at).where(
            Job.state.in_([JobState.READY, JobState.REJECTED, JobState.FAILED]),
            Job.started_at.is_not(None),
            Job.finished_at.is_not(None),
        )
    ).all()
    return [max(0.0, (end - start).total_seconds()) for start, end in rows]


def refusals_by_reason(session: Session) -> dict[str, int]:
    """Refused (rejected) jobs counted by their reason code."""
    rows = session.execute(
        select(Job.reason_code, func.count())
        .where(Job.state == JobState.REJECTED)
        .group_by(Job.reason_code)
    ).all()
    return {code or "unknown": count for code, count in rows}
