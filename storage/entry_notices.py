"""Telling an entry's contestant of their entry: who that is, where they are reached.

The entry form asks for the collective's contact e-mail and phone: those reach the person who
looks after the entry, so they come first; the account's own are the fallback. Entries owned
by an organizer's account (a bulk import) tell nobody: its report is the organizer's word, and
the entry page a link would lead to is the contestant's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from storage.models import Entry, Job
from storage.notifications import kind_of, notify


def tell_owner(
    session: Session, kind: str, entry: Entry, subject: str, params: Mapping[str, Any]
) -> list[int]:
    """Queue `kind` about `entry` for its owner at the entry's contact address (else the
    account's); in the caller's transaction, not committed."""
    owner = entry.owner
    if owner.role not in kind_of(kind).roles:
        return []
    return notify(
        session,
        kind,
        owner,
        subject,
        params,
        email=entry.email.strip() or owner.email,
        phone=entry.contact_phone.strip() or owner.phone,
    )


def tell_received(session: Session, entry: Entry, job: Job) -> list[int]:
    """Tell the owner their upload arrived, with the entry's number (once per original)."""
    session.flush()  # the job's id names the event
    return tell_owner(
        session,
        "entry_received",
        entry,
        f"job-{job.id}",
        {"entry_id": entry.id, "job_id": job.id, "number": entry.number},
    )
