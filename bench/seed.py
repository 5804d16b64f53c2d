"""A throwaway contest, contestant and entry for the benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from storage.models import Contest, Entry, Role, User

PASSWORD = "bench-password"


def bench_entry(session: Session, password_hash: str = "-") -> Entry:
    """Add (and flush) an open contest, a contestant `bench` and one entry of theirs."""
    now = datetime.now(UTC)
    contest = Contest(
        slug="bench",
        title="bench",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
    )
    user = User(
        username="bench", display_name="bench", role=Role.CONTESTANT, password_hash=password_hash
    )
    entry = Entry(
        contest=contest,
        owner=user,
        number=1,
        title="t",
        collective="c",
        district="d",
        industry="i",
        contact_name="n",
        contact_phone="13800138000",
    )
    session.add(entry)
    session.flush()
    return entry
