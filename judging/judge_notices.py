"""What judges are told when their list is made or changed, queued in the change's transaction.

A message names what it tells of by ids only (round, entry); the mail builder
(web/mail_rounds.py) reads the rest when it is sent, and never puts a blind round's titles
or any entry's number in it. The reminders before a round's due date are scanned for in
`judging.reminders_judge`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Entry, Round, User, utcnow
from storage.notifications import notify

ADDED, REMOVED = "added", "removed"


def tell_round_opened(session: Session, rnd: Round, pairs: Iterable[tuple[int, int]]) -> int:
    """Queue `round_opened` for each judge given at least one (judge id, entry id); not
    committed. One message per judge and round: a second assignment of the round tells no one
    again. Returns how many messages were queued."""
    load = Counter(judge_id for judge_id, _entry_id in pairs)
    if not load:
        return 0
    judges = session.scalars(select(User).where(User.id.in_(load)).order_by(User.id))
    queued = 0
    for judge in judges:
        queued += len(
            notify(
                session,
                "round_opened",
                judge,
                f"round-{rnd.id}-opened",
                {"round_id": rnd.id, "entries": load[judge.id]},
            )
        )
    return queued


def tell_assignment_changed(
    session: Session,
    rnd: Round,
    judge: User,
    entry: Entry,
    action: str,
    now: datetime | None = None,
) -> None:
    """Queue `assignment_changed` for one entry put on (`added`) or taken off (`removed`) a
    judge's list by hand; not committed. The key holds the action and the time: adding,
    removing and adding again tells each."""
    at = (now or utcnow()).isoformat()
    notify(
        session,
        "assignment_changed",
        judge,
        f"round-{rnd.id}-entry-{entry.id}-{action}-{at}",
        {"round_id": rnd.id, "entry_id": entry.id, "action": action},
    )
