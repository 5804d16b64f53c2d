"""Throwaway databases, contests, judges and entries, and a real web server, for benchmarks."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from storage.database import make_engine, make_session_factory, upgrade
from storage.models import Contest, Entry, EntryStatus, Role, User

PASSWORD = "bench-password"
ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def open_contest() -> Contest:
    """A contest `bench` open since yesterday until tomorrow."""
    now = datetime.now(UTC)
    return Contest(
        slug="bench",
        title="bench",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
    )


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new, migrated PostgreSQL database (TEST_DATABASE_ADMIN_URL's server), dropped after."""
    name = f"footprints_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_judging(url: str, judges: int, entries: int, contestants: int = 0) -> None:
    """An open contest with `entries` ready entries, `judges` judges (judge0...) assigned in a
    round, and `contestants` contestants (contestant0...) with a draft entry each."""
    from judging.rounds import assign_round, eligible_entries, open_round
    from web.auth import hash_password

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        contest = open_contest()
        owner = User(username="owner", display_name="o", role=Role.CONTESTANT, password_hash="-")
        fields = {
            "collective": "c",
            "district": "d",
            "industry": "i",
            "contact_name": "n",
            "contact_phone": "13800138000",
        }
        session.add_all(
            Entry(
                contest=contest,
                owner=owner,
                number=n,
                title=f"作品 {n}",
                status=EntryStatus.READY,
                **fields,
            )
            for n in range(1, entries + 1)
        )
        hashed = hash_password(PASSWORD)
        session.add_all(
            User(
                username=f"judge{n}", display_name=f"评委{n}", role=Role.JUDGE, password_hash=hashed
            )
            for n in range(judges)
        )
        session.add_all(
            Entry(
                contest=contest,
                owner=User(
                    username=f"contestant{n}",
                    display_name=f"参赛{n}",
                    role=Role.CONTESTANT,
                    password_hash=hashed,
                ),
                number=entries + 1 + n,
                title=f"上传 {n}",
                **fields,
            )
            for n in range(contestants)
        )
        session.commit()
        rnd = open_round(session, contest, "初评")
        assign_round(session, rnd, eligible_entries(session, contest), seed=1)
    engine.dispose()


def bench_entry(session: Session, password_hash: str = "-") -> Entry:
    """Add (and flush) an open contest, a contestant `bench` and one entry of theirs."""
    contest = open_contest()
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


def start_web(
    env: dict[str, str], workers: int, *extra: str
) -> tuple[subprocess.Popen[bytes], str]:
    """The real web server (gunicorn) on a free loopback port; returns it and its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            *extra,
            "web:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            requests.get(f"{base}/healthz", timeout=5)
            break
        except requests.RequestException:  # not listening yet, or still booting
            time.sleep(0.2)
    return web, base


def log_in(http: requests.Session, base: str, username: str, password: str) -> None:
    """Log in through the form, as a browser does: a session cookie, not a password per call."""
    page = http.get(f"{base}/auth/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if token is None:
        sys.exit("no CSRF token on the login page")
    answer = http.post(
        f"{base}/auth/login",
        data={"csrf_token": token.group(1), "username": username, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        sys.exit(f"login as {username} failed: {answer.status_code}")
