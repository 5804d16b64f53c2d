"""What contestants are told of the organizers' review: approved, or sent back with why.

Called by `judging.review` inside the decision's transaction, before its commit. A message's
subject carries the time of the decision, so the same decision told twice (a form sent
twice) queues nothing more, while a new decision after a fix is told again.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.entry_notices import tell_owner
from storage.models import Entry, User


def tell_approved(session: Session, entries: list[Entry]) -> None:
    """Queue `entry_approved` for each of `entries` (their approved_at set, not committed)."""
    owner_ids = {entry.owner_id for entry in entries}
    if owner_ids:
        # One query for all owners; each entry's `owner` then comes from the identity map.
        session.scalars(select(User).where(User.id.in_(owner_ids))).all()
    for entry in entries:
        if entry.approved_at is None:
            continue
        at = entry.approved_at.isoformat()
        tell_owner(
            session,
            "entry_approved",
            entry,
            f"entry-{entry.id}-approved-{at}",
            {"entry_id": entry.id, "approved_at": at},
        )


def tell_returned(session: Session, entry: Entry) -> None:
    """Queue `entry_returned` for an entry just sent back (returned_at set, not committed)."""
    if entry.returned_at is None:
        return
    at = entry.returned_at.isoformat()
    tell_owner(
        session,
        "entry_returned",
        entry,
        f"entry-{entry.id}-returned-{at}",
        {"entry_id": entry.id, "returned_at": at},
    )
