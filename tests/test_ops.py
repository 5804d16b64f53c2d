"""The operator console against the real broker and real workers: depth, workers, steering."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kombu import Connection
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Decision, EntryStatus, Job, JobState, Role, WorkerNode, utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import PASSWORD, make_entry, make_user, post_confirmed, stored_job
from tests.fleet import Fleet, wait_for
from tests.media import make_clip
from web import create_app
from worker.celery_app import celery, configure_celery
from worker.dispatch import publish_job
from worker.ops.broker import queue_report
from worker.ops.dead_letters import peek_dead_letters
from worker.ops.nodes import worker_report

pytestmark = pytest.mark.integration


def metric(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from Prometheus text, or None."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def job_state(session: Session, job_id: int) -> JobState:
    session.expire_all()
    return session.get_one(Job, job_id).state


def test_a_backlog_shows_its_depth_and_a_started_worker_drains_it(
    fleet: Fleet, session: Session, object_store: ObjectStore, tmp_path: Path
) -> None:
    settings = fleet.settings
    clip = make_clip(tmp_path / "clip.mp4", 320, 568, 1.5)
    jobs = [stored_job(session, object_store, settings, clip) for _ in range(3)]
    for job in jobs:
        assert publish_job(session, job)

    # No worker: the three wait, as RabbitMQ's API (which refreshes every few seconds) and a
    # passive declare both say.
    wait_for(lambda: fleet.queue("transcode").ready == 3, 20, "the management API's count")
    transcode = fleet.queue("transcode")
    assert (transcode.unacked, transcode.consumers) == (0, 0)
    passive = fleet.queue("transcode", via_api=False)
    assert (passive.ready, passive.consumers, passive.unacked) == (3, 0, None)

    # /metrics and `ops status` report the broker's numbers, and agree with each other.
    client = fleet.app.test_client()
    scraped = client.get("/metrics").get_data(as_text=True)
    name = settings.media_queue
    assert metric(scraped, "footprints_queue_messages", queue=name, state="ready") == 3
    assert metric(scraped, "footprints_queue_consumers", queue=name) == 0
    status = fleet.app.test_cli_runner().invoke(args=["ops", "status", "--json"])
    assert status.exit_code == 0, status.output
    data = json.loads(status.output)
    ours = next(q for q in data["queues"]["items"] if q["name"] == name)
    assert (ours["ready"], ours["consumers"], data["queues"]["source"]) == (3, 0, "api")
    for state, count in data["jobs"]["counts"].items():
        assert metric(scraped, "footprints_jobs", state=state) == count
    assert data["jobs"]["counts"]["queued"] >= 3
    text = fleet.app.test_cli_runner().invoke(args=["ops", "status"]).output
    assert name in text and "WORKERS" in text

    # The page shows the same; only operators see it.
    client.post("/auth/login", data={"username": make_user(session).username, "password": PASSWORD})
    assert client.get("/ops/").status_code == 403
    client.post("/auth/logout")
    operator = make_user(session, Role.OPERATOR)
    client.post("/auth/login", data={"username": operator.username, "password": PASSWORD})
    page = client.get("/ops/").get_data(as_text=True)
    assert name in page and f"{settings.media_queue}.dead" in page

    # A worker starts, shows up online, and drains the backlog.
    node = fleet.start_worker(f"ops-{time.monotonic_ns()}")
    report = worker_report(session, celery, 5.0)
    assert next(w for w in report.workers if w.name == node).state == "online"
    assert node in client.get("/ops/").get_data(as_text=True)
    wait_for(
        lambda: all(job_state(session, job.id) is JobState.READY for job in jobs),
        120,
        "the worker to drain the backlog",
    )
    wait_for(lambda: fleet.queue("transcode", via_api=False).ready == 0, 10, "an empty queue")
    assert all(session.get_one(Job, job.id).worker == node for job in jobs)
    after = json.loads(fleet.app.test_cli_runner().invoke(args=["ops", "status", "--json"]).output)
    assert after["jobs"]["ready_last_hour"] >= 3
    assert after["jobs"]["video_minutes_last_hour"] >= round(3 * 1.5 / 60, 1)
    assert after["jobs"]["average_job_seconds"] > 0

    # Every line the worker wrote for a job carries the job's and entry's ids.
    lines = [json.loads(line) for line in fleet.log.read_text().splitlines() if line[:1] == "{"]
    first = jobs[0]
    own = [line for line in lines if line.get("job_id") == first.id]
    assert any(line["message"] == f"job {first.id} ready" for line in own)
    assert any("succeeded" in line["message"] for line in own)
    assert all(line.get("entry_id") == first.entry_id for line in own)

    # A message whose job row does not exist lands in the dead letters, visible and purgeable.
    from worker.tasks import transcode_entry

    transcode_entry.apply_async(args=[10**9])
    wait_for(lambda: fleet.queue("dead", via_api=False).ready == 1, 30, "a dead letter")
    (letter,) = peek_dead_letters(settings)
    assert letter.job_id == 10**9 and letter.reason.startswith("rejected")
    assert fleet.queue("dead", via_api=False).ready == 1  # peeking leaves it there
    assert "#1000000000" in client.get("/ops/").get_data(as_text=True)
    purged = client.post("/ops/dead-letters/purge", follow_redirects=True)
    assert "已删除 1 条死信" in purged.get_data(as_text=True)
    assert fleet.queue("dead", via_api=False).ready == 0

    # The sweeper (a short task, on its own queue) requeues a job whose worker vanished.
    from worker.tasks import sweep_jobs

    stuck = session.get_one(Job, jobs[1].id)
    stuck.state = JobState.RUNNING
    session.commit()
    stuck.updated_at = utcnow() - timedelta(hours=2)  # set after the commit's onupdate
    session.commit()
    seen_before = session.get_one(WorkerNode, node).last_seen_at
    sweep_jobs.apply_async()
    wait_for(lambda: job_state(session, stuck.id) is JobState.READY, 90, "the swept job")
    session.expire_all()
    assert session.get_one(Job, stuck.id).attempts == 2
    assert session.get_one(WorkerNode, node).last_seen_at > seen_before

    # Stopped cleanly, the worker is shown stopped, not lost.
    proc = fleet.workers[-1]
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    report = worker_report(session, celery, 1.0)
    assert next(w for w in report.workers if w.name == node).state == "stopped"


def test_an_operator_cancels_a_running_transcode_and_retries_it(
    fleet: Fleet, session: Session, object_store: ObjectStore, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "long.mp4", 1080, 1920, 10, 30)
    job = stored_job(session, object_store, fleet.settings, clip)
    node = fleet.start_worker(f"cancel-{time.monotonic_ns()}")
    assert publish_job(session, job)

    def progressing() -> bool:
        session.expire_all()
        row = session.get_one(Job, job.id)
        return row.state is JobState.RUNNING and row.percent > 0

    wait_for(progressing, 90, "the transcode to make progress")
    client = fleet.app.test_client()
    operator = make_user(session, Role.OPERATOR)
    client.post("/auth/login", data={"username": operator.username, "password": PASSWORD})
    asked = client.post(f"/ops/jobs/{job.id}/cancel").get_data(as_text=True)
    assert "确认取消任务" in asked and "处理中" in asked  # asked first, naming the state
    assert job_state(session, job.id) is JobState.RUNNING
    page = post_confirmed(client, f"/ops/jobs/{job.id}/cancel")
    assert "已取消" in page.get_data(as_text=True)
    session.expire_all()
    row = session.get_one(Job, job.id)
    assert row.state is JobState.CANCELLED and row.reason_code == "cancelled"
    decision = session.scalar(select(Decision).where(Decision.subject == f"job:{job.id}"))
    assert decision is not None and decision.user_id == operator.id
    assert row.entry.status is EntryStatus.FAILED
    # Its ffmpeg is killed, not left transcoding for nobody; the worker itself lives on.
    wait_for(
        lambda: subprocess.run(["pgrep", "-f", f"footprints-job{job.id}-"]).returncode != 0,
        20,
        "ffmpeg to stop",
    )
    assert fleet.workers[-1].poll() is None
    again = client.post(f"/ops/jobs/{job.id}/cancel", follow_redirects=True)
    assert "已经结束" in again.get_data(as_text=True)

    client.post(f"/ops/jobs/{job.id}/retry")
    wait_for(lambda: job_state(session, job.id) is JobState.READY, 180, "the retried job")
    session.expire_all()
    assert session.get_one(Job, job.id).entry.status is EntryStatus.READY
    report = worker_report(session, celery, 5.0)
    assert next(w for w in report.workers if w.name == node).state == "online"


def test_the_backlog_estimate_counts_running_time_left_and_free_slots() -> None:
    from worker.ops.stats import backlog_eta

    assert backlog_eta(0, [], None, 0) == 0.0
    assert backlog_eta(4, [], None, 2) is None  # no history yet
    assert backlog_eta(4, [], 60.0, 0) is None  # no worker
    assert backlog_eta(4, [30.0, None], 60.0, 2) == (30 + 60 + 4 * 60) / 2


def test_before_any_job_finished_the_running_ones_pace_is_the_estimate() -> None:
    from worker.ops.stats import projected_job_seconds

    now = utcnow()
    halfway = Job(state=JobState.RUNNING, percent=50.0, started_at=now - timedelta(seconds=30))
    just_started = Job(state=JobState.RUNNING, percent=1.0, started_at=now)
    assert projected_job_seconds([halfway, just_started], now) == 60.0
    assert projected_job_seconds([just_started], now) is None


def test_the_job_report_counts_throughput_in_the_last_hour(session: Session) -> None:
    from tests.factories import make_entry
    from worker.ops.stats import job_report

    now = utcnow() + timedelta(days=3650)  # a window no other test's jobs fall in
    entry = make_entry(session, make_user(session))
    for minutes_ago, seconds in ((10, 90.0), (50, 30.0), (90, 600.0)):
        end = now - timedelta(minutes=minutes_ago)
        session.add(
            Job(
                entry=entry,
                source_key="k",
                state=JobState.READY,
                started_at=end - timedelta(seconds=20),
                finished_at=end,
                media_seconds=seconds,
            )
        )
    session.commit()
    report = job_report(session, slots=2, now=now)
    assert report.ready_last_hour == 2 and report.video_minutes_last_hour == 2.0
    assert report.average_job_seconds == 20.0


def test_queue_depth_falls_back_to_amqp_and_says_when_the_broker_is_down(
    settings: Settings,
) -> None:
    no_api = dataclasses.replace(settings, rabbitmq_api_url="http://127.0.0.1:9")
    report = queue_report(no_api)
    assert report.source == "amqp" and "management API" in report.error
    assert all(q.unacked is None and q.ready is not None for q in report.queues)
    down = dataclasses.replace(no_api, broker_url="amqp://guest:guest@127.0.0.1:9//")
    report = queue_report(down)
    assert report.source == "unavailable" and all(q.ready is None for q in report.queues)


def test_readiness_names_the_service_that_does_not_answer(
    client: Any, settings: Settings, session: Session
) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session as PlainSession

    from worker.readiness import readiness

    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {"database": "ok", "broker": "ok", "s3": "ok"}

    no_s3 = ObjectStore(dataclasses.replace(settings, s3_endpoint="127.0.0.1:9"))
    checks = readiness(session, no_s3, "amqp://guest:guest@127.0.0.1:9//")
    assert checks["database"] == "ok"
    assert checks["broker"].startswith("error") and checks["s3"].startswith("error")
    dead_db = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
    with PlainSession(dead_db) as broken:
        store = ObjectStore(settings)
        checks = readiness(broken, store, settings.broker_url)
    assert checks["database"].startswith("error") and checks["s3"] == "ok"


def test_metrics_can_require_a_token(settings: Settings, object_store: ObjectStore) -> None:
    app = create_app(
        {"SETTINGS": dataclasses.replace(settings, metrics_token="s3cret"), "TESTING": True}
    )
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        scraped = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert scraped.status_code == 200
        text = scraped.get_data(as_text=True)
        assert "footprints_job_duration_seconds_bucket" in text
        assert metric(text, "footprints_broker_up") == 1
    finally:
        app.extensions["footprints.engine"].dispose()


def test_the_ops_page_still_answers_when_the_broker_is_down(
    settings: Settings, session: Session, object_store: ObjectStore
) -> None:
    down = dataclasses.replace(
        settings, broker_url="amqp://guest:guest@127.0.0.1:9//", rabbitmq_api_url=""
    )
    app = create_app({"SETTINGS": down, "TESTING": True, "WTF_CSRF_ENABLED": False})
    try:
        client = app.test_client()
        operator = make_user(session, Role.OPERATOR)
        client.post("/auth/login", data={"username": operator.username, "password": PASSWORD})
        started = time.monotonic()
        page = client.get("/ops/")
        assert page.status_code == 200
        assert "消息队列无法连接" in page.get_data(as_text=True)
        assert time.monotonic() - started < 30  # bounded, not hanging
    finally:
        configure_celery(celery, settings)
        app.extensions["footprints.engine"].dispose()
    # Reconfigured, the shared app publishes to the working broker again, not a pooled dead one.
    with celery.pool.acquire(block=True, timeout=5) as conn:
        assert conn.as_uri() == Connection(settings.broker_url).as_uri()
    with celery.producer_or_acquire() as producer:
        assert producer.connection.as_uri() == Connection(settings.broker_url).as_uri()


def test_requeue_all_failed_retries_each_entrys_newest_failed_job(
    client: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import make_entry

    entry = make_entry(session, make_user(session))
    old = Job(entry=entry, source_key="a", state=JobState.FAILED)
    session.add(old)
    session.commit()
    newest = Job(entry=entry, source_key="b", state=JobState.FAILED)
    session.add(newest)
    session.commit()
    sent: list[int] = []
    monkeypatch.setattr("worker.dispatch.publish_job", lambda s, j: sent.append(j.id) or True)
    operator = make_user(session, Role.OPERATOR)
    client.post("/auth/login", data={"username": operator.username, "password": PASSWORD})
    client.post("/ops/jobs/requeue-failed")
    assert newest.id in sent and old.id not in sent
    session.expire_all()
    assert session.get_one(Job, newest.id).state is JobState.QUEUED


def test_text_logs_carry_the_bound_ids() -> None:
    import logging

    from worker import log_context

    record = logging.LogRecord("worker.jobs", logging.INFO, "", 0, "job %s ready", (7,), None)
    log_context.bind(job_id=7, entry_id=3)
    try:
        log_context.ContextFilter().filter(record)
    finally:
        log_context.clear()
    line = log_context.TextFormatter("%(name)s: %(message)s").format(record)
    assert line == "worker.jobs: job 7 ready [job_id=7 entry_id=3]"


def test_the_reports_work_on_sqlite_too(tmp_path: Path) -> None:
    """`make run`'s demo keeps its data in SQLite, which returns times without a zone."""
    from storage.database import make_engine, make_session_factory, upgrade
    from storage.models import Contest
    from worker.ops.stats import job_report

    url = f"sqlite:///{tmp_path}/demo.db"
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as lite:
            contest = Contest(slug="c", title="c")
            entry = make_entry(lite, make_user(lite), contest)
            now = utcnow()
            lite.add_all(
                [
                    WorkerNode(name="gone@host", last_seen_at=now - timedelta(minutes=5)),
                    Job(
                        entry=entry,
                        source_key="k",
                        state=JobState.READY,
                        started_at=now - timedelta(seconds=40),
                        finished_at=now - timedelta(seconds=10),
                        media_seconds=60.0,
                    ),
                ]
            )
            lite.commit()
            lite.expire_all()
            workers = worker_report(lite, celery, 0.5)
            assert next(w for w in workers.workers if w.name == "gone@host").state == "lost"
            report = job_report(lite, slots=1)
            assert report.ready_last_hour == 1 and report.average_job_seconds == 30.0
    finally:
        engine.dispose()


def test_the_worker_report_waits_for_the_nodes_it_knows_not_for_any_n_replies(
    session: Session,
) -> None:
    # Other workers may share the broker (another deployment, the suite's other process):
    # their replies must not end the wait before this deployment's nodes have answered.
    ours, gone = f"ours-{time.monotonic_ns()}@host", f"gone-{time.monotonic_ns()}@host"
    session.add_all(
        [
            WorkerNode(name=ours, last_seen_at=utcnow()),
            WorkerNode(name=gone, last_seen_at=utcnow(), stopped_at=utcnow()),
        ]
    )
    session.commit()
    asked: dict[str, Any] = {}

    class Inspect:
        def active(self) -> dict[str, list[Any]]:
            return {name: [] for name in asked["destination"]}

    class Control:
        def inspect(self, **options: Any) -> Inspect:
            asked.update(options)
            return Inspect()

    app: Any = SimpleNamespace(control=Control())
    report = worker_report(session, app, 1.0)
    assert ours in asked["destination"] and gone not in asked["destination"]
    assert asked["limit"] == len(asked["destination"])
    states = {w.name: w.state for w in report.workers}
    assert states[ours] == "online" and states[gone] == "stopped"
