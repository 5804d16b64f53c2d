"""A round's due date (评审截止时间): read as the organizer types it, in Beijing time.

The page's `datetime-local` field sends `2026-12-31T18:00` with no zone: the organizer means
Beijing time, as every time on the site is shown. It is stored in UTC. The due date only
asks judges to finish by then (reminders go out before it); the round still closes only when
an organizer closes it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from judging.messages import Message
from judging.rounds import RoundError
from storage.models import Round, utcnow

BEIJING = ZoneInfo("Asia/Shanghai")
# Further ahead than this is a typo in the year (2062 for 2026), not a plan.
LONGEST_AHEAD = timedelta(days=366)
# As the field sends it (seconds are optional there) or as a person types it.
_SHAPE = re.compile(
    r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})[T ]+([0-9]{1,2}):([0-9]{2})(?::00)?"
)


class DueError(RoundError):
    """A due date the rules refuse; `message` goes next to the field."""


def parse_due(text: str, now: datetime | None = None) -> datetime | None:
    """The UTC time of a due date typed in Beijing time; None for an empty field."""
    # A Chinese input method types full-width digits and colons (２０２６：…): NFKC reads them.
    typed = unicodedata.normalize("NFKC", text or "").strip()
    if not typed:
        return None
    match = _SHAPE.fullmatch(typed)
    try:
        if match is None:
            raise ValueError(typed)
        year, month, day, hour, minute = (int(part) for part in match.groups())
        local = datetime(year, month, day, hour, minute, tzinfo=BEIJING)
    except ValueError:
        raise DueError(
            Message("请按“年-月-日 时:分”填写评审截止时间，如 2026-12-31 18:00")
        ) from None
    due = local.astimezone(UTC)
    now = now or utcnow()
    if due <= now:
        raise DueError(Message("评审截止时间应晚于现在（北京时间）"))
    if due > now + LONGEST_AHEAD:
        raise DueError(Message("评审截止时间不能超过一年之后，请检查年份"))
    return due


def input_value(due: datetime | None) -> str:
    """A stored due date as the `datetime-local` field shows it (Beijing time)."""
    if due is None:
        return ""
    aware = due if due.tzinfo else due.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def set_due(session: Session, rnd: Round, text: str, now: datetime | None = None) -> None:
    """Change (or, with an empty field, remove) an open round's due date; commits.

    Reminders follow the new date: their keys name the due date they remind of."""
    if rnd.closed_at is not None:
        raise DueError(Message("本轮评审已结束，不能再修改截止时间"))
    rnd.due_at = parse_due(text, now)
    session.commit()
