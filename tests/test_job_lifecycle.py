"""One job lifecycle: the state changes on Job, the task's retry ladder, one read per run."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import worker.jobs
import worker.piece_jobs
from judging.pieces import add_piece
from storage.models import Entry, EntryStatus, Job, JobState, WorkType
from storage.objects import ObjectStore, ObjectStoreError, original_key
from storage.settings import Settings
from tests.factories import make_entry, make_user, stored_job
from tests.media import make_clip
from worker.jobs import AfterError, GaveUp, JobGone, after_error, process_job
from worker.queues import job_id_of

pytestmark = pytest.mark.integration


def queued_job(session: Session, *, older: bool = False) -> Job:
    """A queued job of a new entry (no original stored); `older`: a newer job follows it."""
    entry = make_entry(session, make_user(session))
    entry.status = EntryStatus.SUBMITTED
    job = Job(entry=entry, source_key=f"originals/{uuid.uuid4().hex}")
    session.add(job)
    if older:
        session.add(Job(entry=entry, source_key=f"originals/{uuid.uuid4().hex}"))
    session.commit()
    return job


def test_start_runs_the_job_and_the_entry_follows(session: Session) -> None:
    job = queued_job(session)
    job.reason, job.reason_code, job.percent = "稍后重试", "retrying", 40.0
    assert job.start("w1@host", max_attempts=3)
    assert (job.state, job.attempts, job.worker, job.percent) == (
        JobState.RUNNING,
        1,
        "w1@host",
        0.0,
    )
    assert job.reason == job.reason_code == "" and job.started_at is not None
    assert job.entry.status is EntryStatus.PROCESSING


def test_start_changes_nothing_once_the_starts_are_used_up(session: Session) -> None:
    job = queued_job(session)
    job.attempts = 3
    assert not job.start("w1@host", max_attempts=3)
    assert (job.state, job.attempts, job.worker) == (JobState.QUEUED, 3, "")
    job.give_up("反复中断")
    assert (job.state, job.reason_code) == (JobState.FAILED, "gave_up")
    assert job.finished_at is not None and job.entry.status is EntryStatus.FAILED


@pytest.mark.parametrize(
    ("state", "entry_status", "percent"),
    [
        (JobState.READY, EntryStatus.READY, 100.0),
        (JobState.REJECTED, EntryStatus.REJECTED, 0.0),
        (JobState.FAILED, EntryStatus.FAILED, 0.0),
    ],
)
def test_finish_records_the_outcome(
    session: Session, state: JobState, entry_status: EntryStatus, percent: float
) -> None:
    job = queued_job(session)
    job.start("w", 3)
    assert job.finish(state, "原因", "code", media_seconds=12.5)
    assert (job.state, job.reason, job.reason_code, job.media_seconds) == (
        state,
        "原因",
        "code",
        12.5,
    )
    assert job.percent == percent and job.finished_at is not None and job.eta_seconds is None
    assert job.entry.status is entry_status


def test_a_retry_after_a_passing_fault_gives_the_start_back(session: Session) -> None:
    job = queued_job(session)
    job.start("w", 3)
    assert job.finish(JobState.QUEUED, "存储暂时不可用", "retrying")
    assert (job.state, job.attempts, job.finished_at) == (JobState.QUEUED, 0, None)
    assert job.entry.status is EntryStatus.PROCESSING


def test_a_cancelled_job_stays_cancelled(session: Session) -> None:
    job = queued_job(session)
    job.start("w", 3)
    assert job.cancel("管理员取消")
    assert (job.state, job.reason_code) == (JobState.CANCELLED, "cancelled")
    assert job.entry.status is EntryStatus.FAILED
    # The worker's outcome arrives after the cancel, and so does a second cancel.
    assert not job.finish(JobState.READY)
    assert not job.cancel("again")
    assert (job.state, job.reason, job.percent) == (JobState.CANCELLED, "管理员取消", 0.0)


def test_an_older_job_does_not_move_its_entry(session: Session) -> None:
    job = queued_job(session, older=True)
    job.start("w", 3)
    job.finish(JobState.REJECTED, "x", "x")
    assert job.entry.status is EntryStatus.SUBMITTED
    job.entry.status = EntryStatus.WITHDRAWN
    newest = job.entry.latest_job()
    assert newest is not None and newest is not job
    newest.start("w", 3)
    assert job.entry.status is EntryStatus.WITHDRAWN


def test_requeue_starts_over_and_requeue_stalled_keeps_the_start(session: Session) -> None:
    job = queued_job(session)
    job.start("w", 3)
    job.requeue_stalled("停止报告进度")
    assert (job.state, job.attempts, job.reason_code, job.published_at) == (
        JobState.QUEUED,
        1,
        "stalled",
        None,
    )
    assert job.entry.status is EntryStatus.PROCESSING  # not moved: it is still being made
    job.start("w", 3)
    job.finish(JobState.FAILED, "ffmpeg", "ffmpeg")
    job.requeue("管理员重试")
    assert (job.state, job.attempts, job.percent, job.finished_at, job.reason_code) == (
        JobState.QUEUED,
        0,
        0.0,
        None,
        "",
    )
    assert job.reason == "管理员重试" and job.entry.status is EntryStatus.SUBMITTED


def _stored(session_factory: sessionmaker[Session], job_id: int) -> Job:
    with session_factory() as s:
        return s.get_one(Job, job_id)


def _down() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionError("database away"))


def test_after_error_rejects_a_missing_row_and_a_job_given_up(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    assert after_error(session_factory, settings, 1, JobGone(1), 0) == AfterError(
        reject="no such job"
    )
    assert after_error(session_factory, settings, 1, GaveUp(1), 0) == AfterError(reject="gave up")


@pytest.mark.parametrize("fault", [_down(), ObjectStoreError("S3 away")])
def test_after_error_retries_a_passing_fault_with_backoff(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    fault: Exception,
) -> None:
    job = queued_job(session)
    assert worker.jobs.start_job(session_factory, job.id, settings.max_attempts)
    assert after_error(session_factory, settings, job.id, fault, 2) == AfterError(retry_in=20)
    stored = _stored(session_factory, job.id)
    assert (stored.state, stored.reason_code, stored.attempts) == (JobState.QUEUED, "retrying", 0)
    last = settings.task_max_retries
    assert after_error(session_factory, settings, job.id, fault, last) == AfterError(
        state=JobState.FAILED
    )
    stored = _stored(session_factory, job.id)
    assert (stored.state, stored.reason_code) == (JobState.FAILED, "unavailable")


def test_after_error_retries_even_when_the_retry_cannot_be_recorded(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = queued_job(session)

    def database_away(*_args: Any, **_kwargs: Any) -> None:
        raise _down()

    monkeypatch.setattr(worker.jobs, "finish_job", database_away)
    assert after_error(session_factory, settings, job.id, _down(), 0) == AfterError(retry_in=5)


def test_after_error_fails_the_job_on_a_bug_and_lets_it_raise(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    job = queued_job(session)
    assert after_error(session_factory, settings, job.id, KeyError("bug"), 0) == AfterError()
    stored = _stored(session_factory, job.id)
    assert (stored.state, stored.reason_code) == (JobState.FAILED, "internal")


@pytest.mark.parametrize(
    ("args", "job_id"),
    [
        ([7], 7),
        ((7,), 7),
        (["7"], 7),
        ("(7,)", 7),
        ("[12, 'x']", 12),
        ([], None),
        ((), None),
        (None, None),
        ("", None),
        ("()", None),
        (["abc"], None),
        ([None], None),
        ([[7]], None),
        ({"job_id": 7}, None),
        (7, None),
    ],
)
def test_the_job_id_of_a_message(args: object, job_id: int | None) -> None:
    assert job_id_of(args) == job_id


@pytest.fixture()
def job_reads(session_factory: sessionmaker[Session]) -> Iterator[list[str]]:
    """Every statement that loads one job row by its id, while the test runs."""
    engine = session_factory.kw["bind"]
    reads: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM jobs" in statement and "WHERE jobs.id =" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield reads
    event.remove(engine, "before_cursor_execute", note)


def test_a_video_run_reads_its_job_twice_and_holds_no_connection_while_ffmpeg_runs(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    job_reads: list[str],
) -> None:
    job = stored_job(session, object_store, settings, make_clip(tmp_path / "c.mp4", 320, 240, 1))
    engine = session_factory.kw["bind"]
    held: list[int] = []
    real = worker.jobs.process_file

    def spy(*args: Any, **kwargs: Any) -> Any:
        held.append(engine.pool.checkedout())
        return real(*args, **kwargs)

    monkeypatch.setattr(worker.jobs, "process_file", spy)
    job_reads.clear()
    assert process_job(session_factory, object_store, settings, job.id) is JobState.READY
    assert held == [0]
    assert len(job_reads) == 2  # the start, and the outcome (which must see a cancel)


def _jpeg(tmp: Path) -> Path:
    path = tmp / f"{uuid.uuid4().hex}.jpg"
    data = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 40, 40)).save(data, "JPEG")
    path.write_bytes(data.getvalue())
    return path


def test_a_photo_run_reads_its_job_twice_and_holds_no_connection_while_drawing(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    job_reads: list[str],
) -> None:
    entry: Entry = make_entry(session, make_user(session))
    entry.work_type = WorkType.PHOTO
    session.commit()
    path = _jpeg(tmp_path)
    key = original_key(entry.id, uuid.uuid4().hex)
    stored = object_store.put_file(settings.bucket_originals, key, str(path), "image/jpeg")
    job = add_piece(session, entry, stored, settings, filename=path.name)
    engine = session_factory.kw["bind"]
    held: list[int] = []
    real = worker.piece_jobs.process_image

    def spy(*args: Any, **kwargs: Any) -> Any:
        held.append(engine.pool.checkedout())
        return real(*args, **kwargs)

    monkeypatch.setattr(worker.piece_jobs, "process_image", spy)
    job_reads.clear()
    assert process_job(session_factory, object_store, settings, job.id) is JobState.READY
    assert held == [0]
    assert len(job_reads) == 2
    session.refresh(entry)
    assert entry.status is EntryStatus.READY
