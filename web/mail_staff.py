"""What the staff are told: organizers' daily digest, and a job that failed (not the file's
fault) to organizers and operators."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from judging.digest import Digest
from storage.models import Contest, Entry, Role
from storage.outbox import OutboxMessage
from web.mail_render import Content, builds, external
from worker.outbox import Skip


def review_url(entry: Entry) -> str:
    """The entry's row on the organizers' review queue (searched by its number)."""
    number = f"No.{entry.number:04d}"
    return external("admin.index", q=number, _anchor=f"entry-{entry.id}")


@builds("job_failed")
def job_failed(session: Session, message: OutboxMessage) -> Content:
    entry = session.get(Entry, message.params.get("entry_id", 0))
    if entry is None:
        raise Skip("作品已不存在")
    number = f"No.{entry.number:04d}"
    return Content(
        _("处理失败：作品《%(title)s》（%(number)s）", title=entry.title, number=number),
        {
            "entry": entry,
            "number": number,
            "job_id": message.params.get("job_id"),
            "attempts": message.params.get("attempts", 0),
            "reason": message.params.get("reason", ""),
            # Operators retry it on the ops page; organizers follow the entry in the queue.
            "operator": message.user is not None and message.user.role is Role.OPERATOR,
            "ops_url": external("ops.index"),
            "review_url": review_url(entry),
        },
    )


@builds("daily_digest")
def daily_digest(session: Session, message: OutboxMessage) -> Content:
    digest = Digest.from_params(message.params)
    if session.get(Contest, digest.contest_id) is None:
        raise Skip("活动已不存在")
    day = digest.day.isoformat()
    return Content(
        _("每日汇总：%(contest)s（%(day)s）", contest=digest.contest_title, day=day),
        {
            "digest": digest,
            "day": day,
            "review_url": external("admin.index"),
            "failed_url": external("admin.index", status="failed"),
            "judging_url": external("judging.index"),
        },
    )
