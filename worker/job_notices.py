"""Organizers and operators are told at once of a job that failed for a reason not the file's.

A refused file (JobState.REJECTED) is the contestant's to fix and is told to them; a failed
job (ffmpeg crashed, the storage stayed away, the worker kept dying) needs the staff. The
notice is queued in the transaction that fails the job, so it exists exactly when the
failure does.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import Job, Role
from storage.notifications import notify, staff


def failure_subject(job: Job) -> str:
    """The event's name in the outbox key: this job, this many attempts, this start.

    The start's time is there because an operator's retry sets `attempts` back to 0: without
    it the retried job's next failure would have the first one's key and go untold. A task
    redelivered after the failure was recorded finds the job finished and fails nothing again.
    """
    started = job.started_at.strftime("%Y%m%dT%H%M%S%f") if job.started_at else "0"
    return f"job-{job.id}-failed-{job.attempts}-{started}"


def tell_failed(session: Session, job: Job) -> list[int]:
    """Queue `job_failed` for every active organizer and operator; not committed."""
    params = {
        "job_id": job.id,
        "entry_id": job.entry_id,
        "attempts": job.attempts,
        # Staff read the whole reason, the operators' detail too (it is what they act on).
        "reason": job.reason,
        "code": job.reason_code,
    }
    subject = failure_subject(job)
    added = []
    for user in staff(session, Role.ORGANIZER, Role.OPERATOR):
        added += notify(session, "job_failed", user, subject, params)
    return added
