"""What contestants are told when a 公示 is published: that it is out, with its link.

Called by `judging.results.publish_snapshot` in the publishing transaction. Every contestant
with an entry in the contest (withdrawn entries aside) is told once per 公示; what their
mail says of their entries is read when it is sent, as the public page shows it then.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from storage.entry_notices import tell_owner
from storage.models import Entry, EntryStatus, Snapshot


def tell_published(session: Session, snapshot: Snapshot) -> int:
    """Queue `results_published` for each contestant of the snapshot's contest (the snapshot
    flushed, not committed); how many were queued."""
    entries = session.scalars(
        select(Entry)
        .options(joinedload(Entry.owner))
        .where(Entry.contest_id == snapshot.contest_id, Entry.status != EntryStatus.WITHDRAWN)
        .order_by(Entry.number)
    ).all()
    first: dict[int, Entry] = {}
    for entry in entries:
        first.setdefault(entry.owner_id, entry)  # their first entry's address, as it was given
    queued = 0
    for entry in first.values():
        queued += bool(
            tell_owner(
                session,
                "results_published",
                entry,
                f"snapshot-{snapshot.id}",
                {"snapshot_id": snapshot.id},
            )
        )
    return queued
