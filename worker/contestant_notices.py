"""What a job's end tells its contestant: the video is ready (with quality advice) or refused.

Called in the transaction that records the end (worker/jobs.finish_job), so a message exists
exactly when the end does; the keys name the job, so a redelivered task tells nobody twice.
A job that failed (not the file's fault) is the organizers' to hear of, not the contestant's;
a job an entry has since replaced, or a withdrawn entry, tells nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from storage.entry_notices import tell_owner
from storage.models import EntryStatus, Job, JobState

# The findings (worker/media/quality.py) a contestant can fix by exporting or shooting again.
# Left out: what the service corrects itself (loudness raised or lowered, sound longer than
# picture cut to it) and what is not the file's fault (sound it could not analyse).
WORTH_FIXING = frozenset(
    {"black", "frozen", "no_audio", "silent", "silence", "clipped", "low_resolution", "low_bitrate"}
)
# A black or silent stretch this short at either end is a fade in or out, made on purpose.
FADES = frozenset({"black", "silence"})
FADE_SECONDS = 3.0
EDGE = 0.5


def worth_fixing(findings: Iterable[dict[str, Any]], duration: float | None) -> list[str]:
    """The sentences of the quality findings worth a message, in the report's order."""
    chosen = []
    for finding in findings:
        if finding.get("kind") not in WORTH_FIXING or not finding.get("message"):
            continue
        if finding["kind"] in FADES and _is_fade(finding, duration):
            continue
        chosen.append(str(finding["message"]))
    return chosen


def _is_fade(finding: dict[str, Any], duration: float | None) -> bool:
    start, end = finding.get("start"), finding.get("end")
    if start is None or end is None or end - start >= FADE_SECONDS:
        return False
    return start <= EDGE or (duration is not None and end >= duration - EDGE)


def tell_outcome(session: Session, job: Job) -> list[int]:
    """Queue the contestant's messages of `job`'s end (ready, quality, refused); not committed."""
    entry = job.entry
    if entry.status is EntryStatus.WITHDRAWN or entry.latest_job() is not job:
        return []
    subject = f"job-{job.id}"
    params: dict[str, Any] = {"entry_id": entry.id, "job_id": job.id, "number": entry.number}
    if job.state is JobState.REJECTED:
        return tell_owner(session, "video_refused", entry, subject, params)
    if job.state is not JobState.READY:
        return []
    added = tell_owner(session, "video_ready", entry, subject, params)
    findings = worth_fixing(entry.qc or [], job.media_seconds)
    if findings:
        added += tell_owner(
            session, "quality_warning", entry, subject, {**params, "findings": findings}
        )
    return added
