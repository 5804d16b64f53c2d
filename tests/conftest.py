"""Fixtures: a fresh PostgreSQL database, private S3 buckets and queue per run, the app."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kombu import Connection
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

import web.outbox_task  # noqa: F401  (this process publishes the outbox rows it commits)
from storage.database import make_engine, make_session_factory, upgrade
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.fleet import Fleet, delete_queues, private_queues, s3_client, settings_env, start_worker
from web import create_app
from web.mail_catcher import Catcher
from web.mail_catcher import start as start_catcher
from worker.celery_app import celery, configure_celery
from worker.queues import declare_all

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:8]
ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

# What a test needs, read off the fixtures it uses (directly or through others), so that
# `pytest -m "not integration and not browser"` runs the unit tests without any service.
NEEDS = {
    "database_url": "integration",  # PostgreSQL; every S3, broker and app fixture builds on it
    "worker": "worker",
    "fleet": "worker",
    "browser": "browser",
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker in {marker for fixture, marker in NEEDS.items() if fixture in used}:
            item.add_marker(marker)
        if item.get_closest_marker("e2e"):
            item.add_marker("browser")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A new PostgreSQL database for this run, migrated to the newest schema."""
    name = f"footprints_test_{RUN_ID}"
    # Pre-ping: the fault tests restart PostgreSQL under this engine's pooled connection.
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def mail_catcher() -> Iterator[Catcher]:
    """A real SMTP server (aiosmtpd) in the test process that keeps what the service sends."""
    catcher = Catcher()
    controller = start_catcher("127.0.0.1", 0, catcher)
    yield catcher
    controller.stop()


@pytest.fixture(scope="session")
def settings(database_url: str, mail_catcher: Catcher, tmp_path_factory) -> Settings:  # type: ignore[no-untyped-def]
    return Settings.from_env(
        mail_server="127.0.0.1",
        mail_port=mail_catcher.port,
        mail_timeout_seconds=10,
        sms_provider="file",
        sms_file_dir=str(tmp_path_factory.mktemp("sms")),
        database_url=database_url,
        secret_key="test-secret",
        bucket_originals=f"fp-test-{RUN_ID}-originals",
        bucket_assets=f"fp-test-{RUN_ID}-assets",
        media_queue=f"footprints-test-{RUN_ID}",
        short_queue=f"footprints-test-{RUN_ID}-short",
        # Every test client comes from 127.0.0.1; the tests of the limits set their own.
        login_rate_limit="1000/minute",
        upload_rate_limit="1000/hour",
    )


@pytest.fixture(scope="session")
def object_store(settings: Settings) -> Iterator[ObjectStore]:
    store = ObjectStore(settings)
    store.ensure_buckets()
    yield store
    client = s3_client(settings)
    for bucket in (settings.bucket_originals, settings.bucket_assets):
        for obj in client.list_objects(bucket, recursive=True):
            client.remove_object(bucket, obj.object_name)
        client.remove_bucket(bucket)


@pytest.fixture(scope="session")
def session_factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture()
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture()
def app(settings: Settings, object_store: ObjectStore) -> Iterator[Flask]:
    app = create_app({"SETTINGS": settings, "TESTING": True, "WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["footprints.engine"].dispose()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = "password123"):  # type: ignore[no-untyped-def]
        return self._client.post("/auth/login", data={"username": username, "password": password})

    def logout(self):  # type: ignore[no-untyped-def]
        return self._client.post("/auth/logout")


@pytest.fixture()
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture(scope="session")
def worker(
    settings: Settings, object_store: ObjectStore, tmp_path_factory
) -> Iterator[subprocess.Popen[bytes]]:  # type: ignore[no-untyped-def]
    """A real Celery worker process on this run's private queue."""
    configure_celery(celery, settings)  # this process publishes to it, app or no app
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    proc = start_worker(settings_env(settings), log, f"test-{RUN_ID}")
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not start:\n{log.read_text()}")
        time.sleep(0.3)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    delete_queues(settings)
    if os.environ.get("FOOTPRINTS_SHOW_WORKER_LOG"):
        sys.stderr.write(log.read_text())


@pytest.fixture(scope="session", autouse=True)
def _close_broker_connections() -> Iterator[None]:
    yield
    from worker.celery_app import celery

    # The web side's publisher keeps pooled broker connections; close them before exit.
    celery.amqp.producer_pool.force_close_all()
    celery.pool.force_close_all()


@pytest.fixture()
def fleet(settings: Settings, object_store: ObjectStore, tmp_path: Path) -> Iterator[Fleet]:
    """Queues of the test's own, an app publishing to them, and the workers it starts."""
    private = dataclasses.replace(
        private_queues(settings, f"ops{time.monotonic_ns()}"),
        log_format="json",
        inspect_timeout_seconds=2.0,
    )
    app = create_app({"SETTINGS": private, "TESTING": True, "WTF_CSRF_ENABLED": False})
    with Connection(private.broker_url) as conn:
        declare_all(conn, private)
    fleet = Fleet(private, app, tmp_path / "workers.log")
    yield fleet
    for proc in fleet.workers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    delete_queues(private)
    configure_celery(celery, settings)  # other tests publish through the shared app
    app.extensions["footprints.engine"].dispose()


@pytest.fixture()
def live_server(settings: Settings, object_store: ObjectStore) -> Iterator[str]:
    """The app, with CSRF on, on a real HTTP server for the browser; yields its base URL."""
    app = create_app({"SETTINGS": settings})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["footprints.engine"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, started once per run; each walk opens its own context."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()
