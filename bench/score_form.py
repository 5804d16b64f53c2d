"""Load on the judges' score form: 50 judges working at once against the real web server.

Starts gunicorn (2 workers x 4 threads) on loopback against a throwaway PostgreSQL database
(TEST_DATABASE_ADMIN_URL, as the tests use), seeds 150 ready entries, 50 judges and a round
with 3 judges per entry, then has every judge open and save score forms for a fixed time.
Each judge pauses BENCH_THINK_SECONDS (default 2) between forms; judges log in one every
0.1 s and latencies count once all are in. Prints request counts, errors and latency
percentiles of the form page. Run by hand:
`python bench/score_form.py [seconds]`.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

if __package__ in (None, ""):
    # Run as `python bench/score_form.py`, bench/judging.py would shadow the `judging` package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.seed import log_in, start_web  # noqa: E402
from storage.database import make_engine, make_session_factory, upgrade  # noqa: E402
from storage.models import Contest, Entry, EntryStatus, Role, User  # noqa: E402
from web.auth import hash_password  # noqa: E402

JUDGES, ENTRIES, PASSWORD = 50, 150, "bench-password"
# Seconds a judge pauses between saving one form and opening the next; a real judge spends
# minutes watching each video, so this is far busier than a real panel.
THINK = float(os.environ.get("BENCH_THINK_SECONDS", "2"))
ARRIVAL = 0.1  # seconds between two judges' logins (scrypt is slow by design)
# Seconds a judge pauses between saving one form and opening the next; a real judge spends
# minutes watching each video, so this is far busier than a real panel.
THINK = float(os.environ.get("BENCH_THINK_SECONDS", "2"))
ARRIVAL = 0.1  # seconds between two judges' logins
ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def seed(url: str) -> None:
    from judging.rounds import assign_round, eligible_entries, open_round

    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with factory() as session:
        now = datetime.now(UTC)
        contest = Contest(
            slug="bench",
            title="bench",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
        )
        owner = User(username="owner", display_name="o", role=Role.CONTESTANT, password_hash="-")
        session.add_all(
            Entry(
                contest=contest,
                owner=owner,
                number=n,
                title=f"作品 {n}",
                collective="c",
                district="d",
                industry="i",
                contact_name="n",
                contact_phone="13800138000",
                status=EntryStatus.READY,
            )
            for n in range(1, ENTRIES + 1)
        )
        hashed = hash_password(PASSWORD)
        session.add_all(
            User(
                username=f"judge{n}", display_name=f"评委{n}", role=Role.JUDGE, password_hash=hashed
            )
            for n in range(JUDGES)
        )
        session.commit()
        rnd = open_round(session, contest, "初评")
        assign_round(session, rnd, eligible_entries(session, contest), seed=1)


def judge_loop(
    base: str,
    username: str,
    arrive: float,
    measure_from: float,
    until: float,
    timings: list[float],
    errors: list[str],
) -> None:
    """One judge: arrive, log in, then open and save forms with a pause between them."""
    time.sleep(max(0.0, arrive - time.monotonic()))
    http = requests.Session()
    log_in(http, base, username, PASSWORD)
    desk = http.get(f"{base}/judge/", timeout=30).text
    entries = re.findall(r'href="/judge/entries/(\d+)"', desk)
    n = 0
    while time.monotonic() < until and entries:
        entry = entries[n % len(entries)]
        n += 1
        started = time.perf_counter()
        page = http.get(f"{base}/judge/entries/{entry}", timeout=30)
        if time.monotonic() > measure_from:
            timings.append(time.perf_counter() - started)
        if page.status_code != 200:
            errors.append(f"GET {page.status_code}")
            continue
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        form = {"theme": "20", "story": "20", "production": "20", "appeal": "10"}
        saved = http.post(
            f"{base}/judge/entries/{entry}",
            data={"csrf_token": token.group(1) if token else "", **form, "action": "draft"},
            timeout=30,
        )
        if saved.status_code >= 400:
            errors.append(f"POST {saved.status_code}")
        time.sleep(THINK)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    name = f"footprints_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    web = None
    try:
        seed(url)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "FOOTPRINTS_SECRET_KEY": "bench",
            "LOGIN_RATE_LIMIT": "1000/minute",
        }
        web, base = start_web(env, 2, "--keep-alive", "30")
        timings: list[float] = []
        errors: list[str] = []
        began = time.monotonic()
        measure_from = began + JUDGES * ARRIVAL + 1  # once every judge has logged in
        until = measure_from + seconds
        threads = [
            threading.Thread(
                target=judge_loop,
                args=(base, f"judge{n}", began + n * ARRIVAL, measure_from, until, timings, errors),
            )
            for n in range(JUDGES)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cuts = statistics.quantiles(timings, n=100)
        print(
            f"{JUDGES} judges at once for {seconds:.0f} s, {THINK:g} s between forms, "
            f"2 gunicorn workers x 4 threads, {os.cpu_count()} cores"
        )
        print(f"score form pages: {len(timings)}, errors: {len(errors)}")
        print(
            f"form page latency: p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms "
            f"(target < 100 ms), max {max(timings) * 1000:.0f} ms"
        )
    finally:
        if web is not None:
            web.terminate()
            web.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
