"""Faults, scripted and bounded: killed workers, a restarted broker and database, S3 gone for
30 s, the web server killed mid-upload. Nothing is lost, nothing is done twice.

These restart the machine's own RabbitMQ and PostgreSQL (as `make` starts them) and stop the
S3 server `make test` started; each fault ends by itself. `make chaos` runs only these.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import AssetKind, Entry, Job, JobState, MediaAsset, Upload, utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import PASSWORD, make_entry, make_user, stored_job
from tests.fleet import ROOT, Fleet, s3_client, settings_env, wait_for
from tests.media import make_clip
from worker.dispatch import publish_job, sweep

pytestmark = [pytest.mark.integration, pytest.mark.chaos]


def quick(fleet: Fleet) -> Fleet:
    """The fleet with a one-rung ladder: many small jobs in little time."""
    fleet.settings = dataclasses.replace(
        fleet.settings, rendition_ladder="480", storyboard_max_tiles=4
    )
    return fleet


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=180)


def restart_rabbitmq(down_seconds: float = 0.0) -> None:
    """Stop and start the broker's application: connections drop; durable state stays."""
    run("rabbitmqctl", "-q", "stop_app")
    time.sleep(down_seconds)
    run("rabbitmqctl", "-q", "start_app")
    wait_for(lambda: port_open("127.0.0.1", 5672), 60, "RabbitMQ to listen again")


def restart_postgres() -> None:
    clusters = subprocess.run(
        ["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True
    ).stdout.split()
    version, name = clusters[0], clusters[1]
    run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart")
    wait_for(lambda: port_open("127.0.0.1", 5432), 60, "PostgreSQL to listen again")


def s3_service(action: str, settings: Settings) -> None:
    host, port = settings.s3_endpoint.rsplit(":", 1)
    pidfile = ROOT / "var" / "pids" / "s3.pid"
    if action == "stop":
        assert pidfile.exists(), (
            f"the S3 server on {settings.s3_endpoint} was not started by this checkout's "
            "scripts/services.sh, so this test cannot stop it: stop it, then run make test"
        )
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "services.sh"), action, "s3"],
        check=True,
        capture_output=True,
        timeout=120,
        env=settings_env(settings),
    )
    up = action == "start"
    wait_for(lambda: port_open(host, int(port)) is up, 60, f"the S3 server to {action}")


def assets_consistent(session: Session, store: ObjectStore, settings: Settings, job: Job) -> None:
    """One set of asset rows, each stored; no object under the entry that no row names."""
    session.expire_all()
    rows = list(session.scalars(select(MediaAsset).where(MediaAsset.entry_id == job.entry_id)))
    keys = [row.object_key for row in rows]
    assert len(keys) == len(set(keys)), f"duplicate asset rows: {keys}"
    kinds = [row.kind for row in rows]
    assert kinds.count(AssetKind.RENDITION) == 1 and kinds.count(AssetKind.ORIGINAL) <= 1
    client = s3_client(settings)
    stored = {
        obj.object_name
        for obj in client.list_objects(
            settings.bucket_assets, prefix=f"entries/{job.entry_id}/", recursive=True
        )
    }
    derived = {row.object_key for row in rows if row.kind is not AssetKind.ORIGINAL}
    assert stored == derived, f"orphans {stored - derived}, missing {derived - stored}"


def big_video(tmp_path: Path) -> bytes:
    """A real video of about 15 MB (three 5 MiB parts): constant 30 Mbit/s with filler."""
    cbr = ["-b:v", "30M", "-minrate", "30M", "-maxrate", "30M", "-bufsize", "15M"]
    clip = make_clip(
        tmp_path / "big.mp4", 640, 360, 4.0, extra=[*cbr, "-x264-params", "nal-hrd=cbr"]
    )
    return clip.read_bytes()


def all_ready(session: Session, jobs: list[Job]) -> bool:
    session.expire_all()
    return all(session.get_one(Job, job.id).state is JobState.READY for job in jobs)


def any_running(session: Session, jobs: list[Job]) -> bool:
    session.expire_all()
    return any(session.get_one(Job, job.id).state is JobState.RUNNING for job in jobs)


def first_start_on(session: Session, jobs: list[Job], worker: str) -> bool:
    """Is `worker` running a job for the first time?

    A job killed earlier stays marked running until it is redelivered, so "any job running"
    was true at once and the next kill hit the newly started worker before it did anything
    but take that same job again: four kills on one job exceed MAX_ATTEMPTS by design.
    """
    session.expire_all()
    return any(
        (row := session.get_one(Job, job.id)).state is JobState.RUNNING
        and worker in row.worker
        and row.attempts == 1
        for job in jobs
    )


def test_killing_workers_again_and_again_over_a_batch_loses_and_doubles_nothing(
    fleet: Fleet, session: Session, object_store: ObjectStore, tmp_path: Path
) -> None:
    quick(fleet)
    clip = make_clip(tmp_path / "c.mp4", 320, 568, 2.0)
    jobs = [stored_job(session, object_store, fleet.settings, clip) for _ in range(20)]
    for job in jobs:
        assert publish_job(session, job)
    kills = 0
    for round_ in range(4):
        name = f"chaos{round_}-{time.monotonic_ns()}"
        fleet.start_worker(name)
        wait_for(lambda n=name: first_start_on(session, jobs, n), 90, "a job's first run")
        time.sleep(1.0)  # into the transcode
        proc = fleet.workers[-1]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
    fleet.start_worker(f"chaos-last-{time.monotonic_ns()}")
    wait_for(lambda: all_ready(session, jobs), 240, "every job to end ready")
    assert kills == 4
    for job in jobs:
        assets_consistent(session, object_store, fleet.settings, job)
    assert max(session.get_one(Job, j.id).attempts for j in jobs) >= 2  # the kills did bite


def test_a_broker_restart_loses_no_message_and_duplicates_are_harmless(
    fleet: Fleet, session: Session, object_store: ObjectStore, tmp_path: Path
) -> None:
    quick(fleet)
    clip = make_clip(tmp_path / "c.mp4", 320, 568, 3.0)
    waiting = [stored_job(session, object_store, fleet.settings, clip) for _ in range(4)]
    for job in waiting:
        assert publish_job(session, job)
    wait_for(lambda: fleet.queue("transcode", via_api=False).ready == 4, 10, "the backlog")

    # Down with a backlog waiting: durable queue, persistent messages, all four still there.
    run("rabbitmqctl", "-q", "stop_app")
    try:
        late = stored_job(session, object_store, fleet.settings, clip)
        started = time.monotonic()
        assert publish_job(session, late) is False  # said, not hung: it stays queued
        assert time.monotonic() - started < 30
    finally:
        run("rabbitmqctl", "-q", "start_app")
    wait_for(lambda: port_open("127.0.0.1", 5672), 60, "RabbitMQ")
    wait_for(lambda: fleet.queue("transcode", via_api=False).ready == 4, 30, "the backlog back")
    session.expire_all()
    assert session.get_one(Job, late.id).published_at is None

    # The sweeper sends what never got through, once it is old enough to be sure.
    row = session.get_one(Job, late.id)
    row.created_at = utcnow() - timedelta(minutes=5)
    session.commit()
    assert late.id in sweep(session, timedelta(minutes=10), 3).republished

    # Restarted again while a task runs: its message comes back and runs again, harmlessly.
    fleet.start_worker(f"broker-{time.monotonic_ns()}")
    jobs = [*waiting, late]

    wait_for(lambda: any_running(session, jobs), 60, "a task to run")
    restart_rabbitmq(down_seconds=2)
    wait_for(lambda: all_ready(session, jobs), 240, "every job after the restarts")
    for job in jobs:
        assets_consistent(session, object_store, fleet.settings, job)


def test_s3_gone_for_30_seconds_jobs_retry_and_uploads_resume(
    fleet: Fleet, session: Session, object_store: ObjectStore, tmp_path: Path
) -> None:
    quick(fleet)
    settings = fleet.settings
    clip = make_clip(tmp_path / "c.mp4", 320, 568, 2.0)
    jobs = [stored_job(session, object_store, settings, clip) for _ in range(3)]
    # An upload under way: its first part is stored before the outage.
    user = make_user(session)
    entry = make_entry(session, user)
    body = big_video(tmp_path)
    chunk = 5 * 1024 * 1024
    assert len(body) > chunk
    fleet.app.config["SETTINGS"] = dataclasses.replace(settings, upload_chunk_bytes=chunk)
    client = fleet.app.test_client()
    auth = (user.username, PASSWORD)
    tus = {"Tus-Resumable": "1.0.0"}
    created = client.post(
        f"/api/v1/entries/{entry.id}/uploads",
        headers={**tus, "Upload-Length": str(len(body))},
        auth=auth,
    )
    assert created.status_code == 201, created.get_json()
    url = created.headers["Location"]

    def send(offset: int) -> Any:
        return client.patch(
            url,
            data=body[offset : offset + chunk],
            headers={
                **tus,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
            auth=auth,
        )

    assert send(0).status_code == 204
    fleet.start_worker(f"s3-{time.monotonic_ns()}")

    s3_service("stop", settings)
    outage = time.monotonic()
    try:
        for job in jobs:
            assert publish_job(session, job)

        def retrying() -> bool:
            session.expire_all()
            return any("存储暂时不可用" in session.get_one(Job, j.id).reason for j in jobs)

        wait_for(retrying, 30, "a job to say it will retry")
        refused = send(chunk)
        assert refused.status_code == 503
        assert "存储服务暂时不可用" in refused.get_json()["error"]
        assert refused.headers["Upload-Offset"] == str(chunk)  # nothing half-recorded
        time.sleep(max(0.0, 30 - (time.monotonic() - outage)))
    finally:
        s3_service("start", settings)

    wait_for(lambda: all_ready(session, jobs), 240, "the jobs to finish after the outage")
    # The workers said what failed, and never with a key or secret in it.
    log = fleet.log.read_text()
    assert "存储暂时不可用" in log or "passing fault" in log
    for secret in (settings.s3_secret_key, settings.secret_key):
        assert secret not in log
    offset = chunk
    while offset < len(body):
        answer = send(offset)
        assert answer.status_code == 204, answer.get_json()
        offset = int(answer.headers["Upload-Offset"])
    session.expire_all()
    assert len(session.get_one(Entry, entry.id).jobs) == 1
    for job in jobs:
        assets_consistent(session, object_store, settings, job)


def test_after_a_database_restart_web_and_workers_carry_on(
    fleet: Fleet, session: Session, object_store: ObjectStore, tmp_path: Path
) -> None:
    quick(fleet)
    clip = make_clip(tmp_path / "c.mp4", 320, 568, 6.0)
    job = stored_job(session, object_store, fleet.settings, clip)
    fleet.start_worker(f"db-{time.monotonic_ns()}")
    client = fleet.app.test_client()
    assert client.get("/readyz").status_code == 200
    assert publish_job(session, job)

    def running() -> bool:
        session.expire_all()
        return session.get_one(Job, job.id).state is JobState.RUNNING

    wait_for(running, 60, "the job to run")
    session.close()  # the test's own connection goes down with the rest
    restart_postgres()
    # No manual step: the web's next request and the worker's next write just work.
    assert client.get("/readyz").status_code == 200
    wait_for(lambda: job_state(session, job.id) is JobState.READY, 180, "the job after it")
    assets_consistent(session, object_store, fleet.settings, job)
    second = stored_job(session, object_store, fleet.settings, clip)
    assert publish_job(session, second)
    wait_for(lambda: job_state(session, second.id) is JobState.READY, 120, "a new job")


def job_state(session: Session, job_id: int) -> JobState:
    session.expire_all()
    return session.get_one(Job, job_id).state


class KillingReader:
    """A request body that runs `kill` once `at` bytes of it have been read."""

    def __init__(self, data: bytes, at: int, kill: Callable[[], None]) -> None:
        self.data, self.at, self.kill = data, at, kill
        self.position = 0
        self.killed = False

    def __len__(self) -> int:  # so requests sends a Content-Length, not chunks
        return len(self.data)

    def read(self, size: int = -1) -> bytes:
        if self.position >= self.at and not self.killed:
            self.killed = True
            self.kill()
        end = len(self.data) if size < 0 else min(len(self.data), self.position + size)
        block = self.data[self.position : end]
        self.position = end
        return block


@pytest.fixture()
def web_server(fleet: Fleet) -> Iterator[tuple[list[subprocess.Popen[bytes]], str]]:
    """A real gunicorn on a fixed loopback port, which a test may kill and start again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    servers: list[subprocess.Popen[bytes]] = []
    yield servers, f"127.0.0.1:{port}"
    for server in servers:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def answers_health(base: str) -> bool:
    """The app itself answers, not only gunicorn's socket: requests sent while the port is open
    but no worker has booted yet wait in the backlog and are reset if the master gives up."""
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def start_gunicorn(settings: Settings, bind: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-b", bind, "--workers", "2", "web:create_app()"],
            cwd=ROOT,
            env=settings_env(settings),
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        wait_for(lambda: answers_health(f"http://{bind}"), 60, "gunicorn")
    except AssertionError as timeout:
        raise AssertionError(
            f"gunicorn did not answer; its log:\n{log.read_text()[-4000:]}"
        ) from timeout
    return server


def test_the_web_server_killed_mid_upload_leaves_nothing_half_done(
    fleet: Fleet,
    web_server: tuple[list[subprocess.Popen[bytes]], str],
    session: Session,
    tmp_path: Path,
) -> None:
    chunk = 5 * 1024 * 1024
    settings = dataclasses.replace(fleet.settings, upload_chunk_bytes=chunk)
    servers, bind = web_server
    servers.append(start_gunicorn(settings, bind, tmp_path / "gunicorn.log"))
    base = f"http://{bind}"
    user = make_user(session)
    entry = make_entry(session, user)
    body = big_video(tmp_path)
    auth = (user.username, PASSWORD)
    tus = {"Tus-Resumable": "1.0.0"}
    created = requests.post(
        f"{base}/api/v1/entries/{entry.id}/uploads",
        headers={**tus, "Upload-Length": str(len(body))},
        auth=auth,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    url = base + created.headers["Location"]
    patch = {**tus, "Content-Type": "application/offset+octet-stream"}
    first = requests.patch(
        url, data=body[:chunk], headers={**patch, "Upload-Offset": "0"}, auth=auth, timeout=60
    )
    assert first.status_code == 204

    def kill_server() -> None:
        os.killpg(servers[-1].pid, signal.SIGKILL)
        servers[-1].wait()

    # Half the second part arrives, then the server dies while it waits for the rest.
    second = KillingReader(body[chunk : 2 * chunk], chunk // 2, kill_server)
    with pytest.raises(requests.ConnectionError):
        requests.patch(
            url, data=second, headers={**patch, "Upload-Offset": str(chunk)}, auth=auth, timeout=60
        )
    assert second.killed
    session.expire_all()
    upload_id = re.sub(r".*/", "", url)
    row = session.get_one(Upload, upload_id)
    assert (row.offset, len(row.etags)) == (chunk, 1)  # the cut part left no trace
    assert (
        session.scalar(select(func.count()).select_from(Job).where(Job.entry_id == entry.id)) == 0
    )

    servers.append(start_gunicorn(settings, bind, tmp_path / "gunicorn.log"))
    head = requests.head(url, headers=tus, auth=auth, timeout=30)
    offset = int(head.headers["Upload-Offset"])
    assert offset == chunk
    while offset < len(body):
        answer = requests.patch(
            url,
            data=body[offset : offset + chunk],
            headers={**patch, "Upload-Offset": str(offset)},
            auth=auth,
            timeout=60,
        )
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["Upload-Offset"])
    session.expire_all()
    jobs = list(session.scalars(select(Job).where(Job.entry_id == entry.id)))
    assert len(jobs) == 1
    original = session.scalar(
        select(MediaAsset).where(
            MediaAsset.entry_id == entry.id, MediaAsset.kind == AssetKind.ORIGINAL
        )
    )
    assert original is not None and original.bytes == len(body)
