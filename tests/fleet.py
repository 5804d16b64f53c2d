"""Private queues and real Celery workers for tests that start, kill and watch them."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from kombu import Connection
from minio import Minio

from storage.settings import Settings
from worker.ops.broker import QueueStat, queue_report

ROOT = Path(__file__).resolve().parent.parent


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process these settings."""
    import dataclasses

    env = dict(os.environ)
    for f in dataclasses.fields(Settings):
        value = getattr(settings, f.name)
        env[f.metadata["env"]] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


def private_queues(settings: Settings, tag: str) -> Settings:
    """These settings with queues of their own (the short queue's dead-letter arguments name
    the media queue, so the two always change together)."""
    import dataclasses

    return dataclasses.replace(
        settings,
        media_queue=f"{settings.media_queue}-{tag}",
        short_queue=f"{settings.short_queue}-{tag}",
    )


def delete_queues(settings: Settings) -> None:
    """Remove a test's queues (transcode, short, dead letters) from the broker."""
    from worker.queues import all_queues

    with Connection(settings.broker_url) as conn:
        for queue in all_queues(settings):
            conn.default_channel.queue_delete(queue.name)


def start_worker(env: dict[str, str], log: Path, name: str) -> subprocess.Popen[bytes]:
    """A Celery worker process in its own process group (so a test can kill it whole)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker.celery_app",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{name}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def s3_client(settings: Settings) -> Minio:
    """A plain S3 client, for looking behind ObjectStore (listing, removing buckets)."""
    return Minio(
        settings.s3_endpoint,
        settings.s3_access_key,
        settings.s3_secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


def wait_for(check: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Fleet:
    """A private set of queues, an app publishing to them and the workers a test starts."""

    settings: Settings
    app: Flask
    log: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, name: str) -> str:
        """Start a worker on these queues; returns its node name once it is ready."""
        before = self.log.read_bytes().count(b" ready.") if self.log.exists() else 0
        proc = start_worker(settings_env(self.settings), self.log, name)
        self.workers.append(proc)
        wait_for(
            lambda: proc.poll() is not None or self.log.read_bytes().count(b" ready.") > before,
            60,
            f"worker {name} to start",
        )
        assert proc.poll() is None, self.log.read_text()[-3000:]
        return f"{name}@{os.uname().nodename}"

    def queue(self, role: str, via_api: bool = True) -> QueueStat:
        settings = self.settings
        if not via_api:
            settings = dataclasses.replace(settings, rabbitmq_api_url="")
        return next(q for q in queue_report(settings).queues if q.role == role)
