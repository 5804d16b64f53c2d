"""Who recommended what and when: the district decisions of a contest, newest first, as the
city organizer reads them (the Decision rows judging/district.py records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.messages import N_
from storage.models import Contest, Decision, User

KIND_LABELS = {
    "recommend": N_("推荐"),
    "decline": N_("不推荐"),
    "withdraw_recommend": N_("撤回决定"),
    "set_quotas": N_("设置名额"),
}
LOG_LIMIT = 100


@dataclass(frozen=True)
class LogLine:
    at: datetime
    kind: str
    subject: str
    note: str
    who: str
    district: str


def decision_log(session: Session, contest: Contest, limit: int = LOG_LIMIT) -> list[LogLine]:
    """The contest's newest district decisions and quota changes, with who made them."""
    rows = session.execute(
        select(Decision, User.display_name, User.district)
        .join(User, User.id == Decision.user_id)
        .where(Decision.contest_id == contest.id, Decision.kind.in_(KIND_LABELS))
        .order_by(Decision.at.desc(), Decision.id.desc())
        .limit(limit)
    ).all()
    return [
        LogLine(d.at, d.kind, d.subject, d.note, name, district if d.kind != "set_quotas" else "")
        for d, name, district in rows
    ]
