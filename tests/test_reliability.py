"""Never stuck, never lost: redelivery, re-runs, the sweeper, a worker killed mid-transcode."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import AssetKind, EntryStatus, Job, JobState, MediaAsset, utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import PASSWORD, make_entry, make_user, stored_job
from tests.fleet import delete_queues, private_queues, settings_env, start_worker
from tests.media import make_clip
from web import create_app
from worker.celery_app import celery
from worker.dispatch import sweep
from worker.jobs import GaveUp, process_job, start_job
from worker.ops.broker import queue_report
from worker.ops.nodes import worker_report

pytestmark = pytest.mark.integration


def asset_rows(session: Session, entry_id: int) -> list[MediaAsset]:
    session.expire_all()
    query = select(MediaAsset).where(MediaAsset.entry_id == entry_id).order_by(MediaAsset.id)
    return list(session.scalars(query))


def test_a_rerun_gives_the_same_keys_and_one_set_of_assets(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    job = stored_job(session, object_store, settings, make_clip(tmp_path / "c.mp4", 640, 360, 1))
    assert process_job(session_factory, object_store, settings, job.id) is JobState.READY
    first = [(a.object_key, a.sha256) for a in asset_rows(session, job.entry_id)]
    # A redelivered message for a finished job does nothing.
    assert process_job(session_factory, object_store, settings, job.id) is JobState.READY
    # A crash after the outputs were stored: the job runs again from the start.
    session.refresh(job)
    job.state = JobState.RUNNING
    session.commit()
    assert process_job(session_factory, object_store, settings, job.id) is JobState.READY
    again = [(a.object_key, a.sha256) for a in asset_rows(session, job.entry_id)]
    assert [k for k, _ in again] == [k for k, _ in first]
    session.refresh(job)
    assert job.attempts == 2 and job.entry.status is EntryStatus.READY


def test_a_refused_file_is_final_and_its_original_kept(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    bogus = tmp_path / "x.mp4"
    bogus.write_bytes(b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    job = stored_job(session, object_store, settings, bogus)
    assert process_job(session_factory, object_store, settings, job.id) is JobState.REJECTED
    session.refresh(job)
    assert job.reason.startswith("无法识别为视频文件") and job.attempts == 1
    assert object_store.exists(settings.bucket_originals, job.source_key)
    assert [a.kind for a in asset_rows(session, job.entry_id)] == []


def test_a_job_that_keeps_killing_workers_is_failed(
    session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    entry = make_entry(session, make_user(session))
    job = Job(entry=entry, source_key="entries/0/originals/x", state=JobState.RUNNING, attempts=3)
    session.add(job)
    session.commit()
    with pytest.raises(GaveUp):  # the task dead-letters its message
        start_job(session_factory, job.id, max_attempts=3)
    session.expire_all()
    assert job.state is JobState.FAILED and "已停止重试" in job.reason
    assert job.entry.status is EntryStatus.FAILED


def test_the_sweeper_requeues_silent_jobs_and_sends_unsent_ones(session: Session) -> None:
    entry = make_entry(session, make_user(session))
    old = utcnow() - timedelta(hours=1)
    silent = Job(
        entry=entry,
        source_key="k1",
        state=JobState.RUNNING,
        attempts=1,
        updated_at=old,
        published_at=old,
    )
    hopeless = Job(entry=entry, source_key="k2", state=JobState.RUNNING, attempts=3, updated_at=old)
    unsent = Job(entry=entry, source_key="k3", created_at=old)
    fresh_unsent = Job(entry=entry, source_key="k4")
    busy = Job(entry=entry, source_key="k5", state=JobState.RUNNING, attempts=1)
    session.add_all([silent, hopeless, unsent, fresh_unsent, busy])
    session.commit()
    sent: list[int] = []

    def publish(s: Session, job: Job) -> bool:
        sent.append(job.id)
        job.published_at = utcnow()
        return True

    result = sweep(session, timedelta(minutes=10), max_attempts=3, publish=publish)

    def ours(ids: list[int]) -> list[int]:  # other tests' rows share the database
        mine = {silent.id, hopeless.id, unsent.id, fresh_unsent.id, busy.id}
        return sorted(i for i in ids if i in mine)

    assert ours(result.requeued) == [silent.id] and ours(result.given_up) == [hopeless.id]
    assert ours(sent) == sorted([silent.id, unsent.id]) == ours(result.republished)
    session.expire_all()
    assert silent.state is JobState.QUEUED and "重新排队" in silent.reason
    assert hopeless.state is JobState.FAILED
    assert fresh_unsent.published_at is None and busy.state is JobState.RUNNING


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_killing_the_worker_mid_transcode_still_finishes_the_job_once(
    settings: Settings,
    session: Session,
    object_store: ObjectStore,
    tmp_path: Path,
) -> None:
    fault = private_queues(settings, "fault")
    env = settings_env(fault)
    log = tmp_path / "workers.log"
    first_name = f"fault-{time.monotonic_ns()}"
    first = start_worker(env, log, first_name)
    second = None
    app = create_app({"SETTINGS": fault, "TESTING": True})
    try:
        user = make_user(session)
        entry = make_entry(session, user)
        clip = make_clip(tmp_path / "long.mp4", 1080, 1920, 10, 30)
        client = app.test_client()
        with open(clip, "rb") as fh:
            response = client.put(
                f"/api/v1/entries/{entry.id}/video", data=fh, auth=(user.username, PASSWORD)
            )
        assert response.status_code == 202, response.get_json()
        job_id = response.get_json()["job"]["id"]

        def progressed() -> bool:
            session.expire_all()
            job = session.get(Job, job_id)
            return job is not None and job.state is JobState.RUNNING and job.percent > 0

        _wait(progressed, 90, "the first worker to make progress")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        # ffmpeg goes down with its worker: no orphan keeps transcoding.
        _wait(
            lambda: (
                subprocess.run(
                    ["pgrep", "-f", f"footprints-job{job_id}-"], capture_output=True
                ).returncode
                != 0
            ),
            10,
            "ffmpeg to die",
        )

        # Operators see the killed worker as lost and the job's message back in its queue.
        report = worker_report(session, celery, 2.0)
        lost = next(w for w in report.workers if w.name == f"{first_name}@{os.uname().nodename}")
        assert lost.state == "lost"
        passive = dataclasses.replace(fault, rabbitmq_api_url="")
        _wait(lambda: queue_report(passive).queues[0].ready == 1, 10, "the message to come back")
        session.expire_all()
        assert session.get_one(Job, job_id).state is JobState.RUNNING  # until redelivered

        second = start_worker(env, log, f"fault-{time.monotonic_ns()}")

        def finished() -> bool:
            session.expire_all()
            job = session.get(Job, job_id)
            return job is not None and job.state.finished

        _wait(finished, 180, "the second worker to finish the job")
        job = session.get_one(Job, job_id)
        assert job.state is JobState.READY, (job.reason, log.read_text()[-3000:])
        assert job.attempts == 2
        kinds = [a.kind for a in asset_rows(session, entry.id)]
        assert kinds.count(AssetKind.RENDITION) == 3 and kinds.count(AssetKind.POSTER) == 3
        assert kinds.count(AssetKind.ORIGINAL) == 1
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
        delete_queues(fault)
        app.extensions["footprints.engine"].dispose()


def test_an_operator_can_retry_a_failed_job(
    client: Any, auth: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.models import Role

    entry = make_entry(session, make_user(session))
    job = Job(entry=entry, source_key="k", state=JobState.FAILED, attempts=3, reason="x")
    session.add(job)
    session.commit()
    sent: list[int] = []
    monkeypatch.setattr("worker.dispatch.publish_job", lambda s, j: sent.append(j.id) or True)
    auth.login(make_user(session, Role.OPERATOR).username)
    page = client.post(f"/ops/jobs/{job.id}/retry", follow_redirects=True)
    assert "已重新排队" in page.get_data(as_text=True)
    session.expire_all()
    assert job.state is JobState.QUEUED and job.attempts == 0 and sent == [job.id]
    assert client.post("/ops/jobs/999999/retry").status_code == 404


def test_a_finishing_job_leaves_a_withdrawn_or_replaced_entry_alone(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    from worker.jobs import finish_job

    entry = make_entry(session, make_user(session))
    old = Job(entry=entry, source_key="old", state=JobState.RUNNING)
    new = Job(entry=entry, source_key="new", state=JobState.RUNNING)
    session.add_all([old, new])
    entry.status = EntryStatus.PROCESSING
    session.commit()
    finish_job(session_factory, old.id, JobState.FAILED, "x")  # superseded by the new upload
    session.expire_all()
    assert entry.status is EntryStatus.PROCESSING
    entry.status = EntryStatus.WITHDRAWN
    session.commit()
    finish_job(session_factory, new.id, JobState.READY)
    session.expire_all()
    assert entry.status is EntryStatus.WITHDRAWN and new.state is JobState.READY


def test_a_passing_fault_does_not_use_up_an_attempt(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    from worker.jobs import finish_job

    entry = make_entry(session, make_user(session))
    job = Job(entry=entry, source_key="k")
    session.add(job)
    session.commit()
    # S3 away for a while: the task starts and retries more often than MAX_ATTEMPTS ...
    for _ in range(5):
        assert start_job(session_factory, job.id, max_attempts=3)
        finish_job(session_factory, job.id, JobState.QUEUED, "存储暂时不可用", "retrying")
    # ... and still runs when S3 is back; only starts that crash count.
    assert start_job(session_factory, job.id, max_attempts=3)
    session.expire_all()
    assert job.attempts == 1 and job.state is JobState.RUNNING
