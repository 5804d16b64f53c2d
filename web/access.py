"""Who may read an entry."""

from __future__ import annotations

from storage.models import Entry, Role

STAFF = frozenset({Role.ORGANIZER, Role.OPERATOR})


def can_read_entry(user_id: int, role: Role, entry: Entry) -> bool:
    """Owners and staff read an entry; judges will read the entries assigned to them."""
    return entry.owner_id == user_id or role in STAFF
