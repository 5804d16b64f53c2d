"""What contestants are told of their video: received, ready, refused, quality advice.

Each message names its entry and job by id (storage/entry_notices.py, worker/contestant_notices.py);
what it says is read again here, when it is sent: a job an entry has since replaced (a newer
upload) or a withdrawn entry is no longer worth a word. A refusal reads as the entry page
reads it (web/entry_view.job_reason_shown): the contestant's sentence, never the detail.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from judging.submissions import SubmissionError, check_changeable
from storage.models import Entry, EntryStatus, Job, JobState
from storage.outbox import OutboxMessage
from web.entry_view import job_reason_shown
from web.mail_render import Content, builds, external
from web.mail_review import SMS_REASON
from web.template_helpers import beijing
from worker.outbox import Skip


def _entry(session: Session, message: OutboxMessage) -> Entry:
    entry = session.get(Entry, message.params.get("entry_id", 0))
    if entry is None:
        raise Skip("作品已不存在")
    if entry.status is EntryStatus.WITHDRAWN:
        raise Skip("作品已撤回")
    return entry


def _job(session: Session, message: OutboxMessage, entry: Entry, state: JobState) -> Job:
    job = session.get(Job, message.params.get("job_id", 0))
    if job is None or job.entry_id != entry.id:
        raise Skip("处理任务已不存在")
    if entry.latest_job() is not job:
        raise Skip("视频已被之后上传的视频替换")
    if job.state is not state:
        raise Skip("处理任务的状态已改变（已重新处理）")
    return job


def _values(entry: Entry, anchor: str | None = None) -> dict[str, Any]:
    """What every contestant's message shows: the entry, its link, the deadline."""
    try:
        check_changeable(entry)
        changeable = True
    except SubmissionError:
        changeable = False
    closes_at = entry.contest.closes_at
    return {
        "entry": entry,
        "title": entry.title,
        "number": f"{entry.number:04d}",
        "entry_url": external("submit.entry", entry_id=entry.id, _anchor=anchor),
        "changeable": changeable,
        "deadline": beijing(closes_at) if closes_at else "",
    }


@builds("entry_received")
def received(session: Session, message: OutboxMessage) -> Content:
    entry = _entry(session, message)
    values = _values(entry)
    return Content(
        _("作品《%(title)s》已收到（No.%(number)s）", title=entry.title, number=values["number"]),
        values,
    )


@builds("video_ready")
def ready(session: Session, message: OutboxMessage) -> Content:
    entry = _entry(session, message)
    _job(session, message, entry, JobState.READY)
    values = _values(entry)
    if entry.work_type.has_pieces:
        subject = _(
            "作品《%(title)s》的图片已处理完成（No.%(number)s）",
            title=entry.title,
            number=values["number"],
        )
    else:
        subject = _(
            "作品《%(title)s》的视频已处理完成（No.%(number)s）",
            title=entry.title,
            number=values["number"],
        )
    return Content(subject, values)


@builds("video_refused")
def refused(session: Session, message: OutboxMessage) -> Content:
    entry = _entry(session, message)
    job = _job(session, message, entry, JobState.REJECTED)
    pieces = entry.work_type.has_pieces
    anchor = "pieces" if pieces else "video-form"
    values = {**_values(entry, anchor), "reason": job_reason_shown(job)}
    if pieces:
        subject = _(
            "作品《%(title)s》的文件未通过检查，请更换（No.%(number)s）",
            title=entry.title,
            number=values["number"],
        )
    else:
        subject = _(
            "作品《%(title)s》的视频未通过检查，请更换（No.%(number)s）",
            title=entry.title,
            number=values["number"],
        )
    return Content(subject, values)


@builds("quality_warning")
def quality(session: Session, message: OutboxMessage) -> Content:
    entry = _entry(session, message)
    _job(session, message, entry, JobState.READY)
    values = {**_values(entry, "quality"), "findings": list(message.params.get("findings", []))}
    return Content(
        _(
            "作品《%(title)s》的视频质量提醒（No.%(number)s）",
            title=entry.title,
            number=values["number"],
        ),
        values,
    )


@builds("entry_not_recommended")
def not_recommended(session: Session, message: OutboxMessage) -> Content:
    """逐级推荐: the district did not recommend the entry, and says why (the decision as
    told; one taken back or changed since is not sent)."""
    entry = _entry(session, message)
    decided = entry.district_decided_at
    if entry.district_decision != "declined" or decided is None:
        raise Skip("县区已改变推荐决定")
    if decided.isoformat() != message.params.get("decided_at", ""):
        raise Skip("县区已重新决定")
    reason = entry.district_reason
    line = " ".join(reason.split()).rstrip("。.；;！!，,")
    short = line if len(line) <= SMS_REASON else line[: SMS_REASON - 1] + "…"
    values = {**_values(entry), "reason": reason, "short_reason": short}
    return Content(
        _(
            "作品《%(title)s》未获县区推荐（No.%(number)s）",
            title=entry.title,
            number=values["number"],
        ),
        values,
    )
