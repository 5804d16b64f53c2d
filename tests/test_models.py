"""The data model on PostgreSQL: migrations match the models, constraints hold."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.database import make_engine, upgrade
from storage.models import Base, EntryStatus, Job, JobState, Role
from tests.factories import make_entry, make_user


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_also_run_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/fp.db"
    upgrade(url)
    upgrade(url)  # a second run is harmless
    engine = make_engine(url)
    with engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("select name from sqlite_master"))}
    engine.dispose()
    assert {"users", "contests", "entries", "media_assets", "jobs"} <= tables


def test_entry_numbers_are_unique_within_a_contest(session: Session) -> None:
    owner = make_user(session)
    first = make_entry(session, owner)
    with pytest.raises(IntegrityError):
        make_entry(session, owner, first.contest, number=first.number, title="重复")
    session.rollback()


def test_states_are_stored_as_readable_words(session: Session) -> None:
    entry = make_entry(session, make_user(session, Role.CONTESTANT))
    job = Job(entry=entry, source_key="entries/1/originals/x")
    session.add(job)
    session.commit()
    assert job.state is JobState.QUEUED and job.attempts == 0 and job.percent == 0
    raw = session.execute(text("select state from jobs where id = :id"), {"id": job.id}).scalar()
    assert raw == "queued"
    raw_status = session.execute(
        text("select status from entries where id = :id"), {"id": entry.id}
    ).scalar()
    assert raw_status == EntryStatus.DRAFT.value
    assert session.scalar(select(Job).where(Job.id == job.id)).entry.id == entry.id


def test_finished_states() -> None:
    assert {s for s in JobState if s.finished} == {
        JobState.READY,
        JobState.REJECTED,
        JobState.FAILED,
        JobState.CANCELLED,
    }
