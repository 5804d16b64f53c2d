"""A throwaway contest, contestant and entry for the benchmarks."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import requests
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
            requests.get(f"{base}/healthz", timeout=1)
            break
        except requests.ConnectionError:
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
