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
from pathlib import Path

import requests

if __package__ in (None, ""):
    # Run as `python bench/score_form.py`, bench/judging.py would shadow the `judging` package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.seed import PASSWORD, log_in, seed_judging, start_web, throwaway_database  # noqa: E402

JUDGES, ENTRIES = 50, 150
# Seconds a judge pauses between saving one form and opening the next; a real judge spends
# minutes watching each video, so this is far busier than a real panel.
THINK = float(os.environ.get("BENCH_THINK_SECONDS", "2"))
ARRIVAL = 0.1  # seconds between two judges' logins (scrypt is slow by design)


def judge_loop(
    base: str,
    username: str,
    arrive: float,
    measure_from: float,
    until: float,
    *,
    timings: list[float],
    errors: list[str],
    think: float = THINK,
) -> None:
    """One judge: arrive, log in, then open and save forms with a pause between them.

    Every request after `measure_from` adds its time to `timings`; failures go to `errors`.
    """
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
            errors.append(f"GET form {page.status_code}")
            continue
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        form = {"theme": "20", "story": "20", "production": "20", "appeal": "10"}
        started = time.perf_counter()
        saved = http.post(
            f"{base}/judge/entries/{entry}",
            data={"csrf_token": token.group(1) if token else "", **form, "action": "draft"},
            timeout=30,
        )
        if time.monotonic() > measure_from:
            timings.append(time.perf_counter() - started)
        if saved.status_code >= 400:
            errors.append(f"POST form {saved.status_code}")
        time.sleep(think)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    with throwaway_database() as url:
        seed_judging(url, JUDGES, ENTRIES)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "FOOTPRINTS_SECRET_KEY": "bench",
            "LOGIN_RATE_LIMIT": "1000/minute",
        }
        web, base = start_web(env, 2, "--keep-alive", "30")
        try:
            timings: list[float] = []
            errors: list[str] = []
            began = time.monotonic()
            measure_from = began + JUDGES * ARRIVAL + 1  # once every judge has logged in
            until = measure_from + seconds
            threads = [
                threading.Thread(
                    target=judge_loop,
                    args=(base, f"judge{n}", began + n * ARRIVAL, measure_from, until),
                    kwargs={"timings": timings, "errors": errors},
                )
                for n in range(JUDGES)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            web.terminate()
            web.wait(timeout=30)
    cuts = statistics.quantiles(timings, n=100)
    print(
        f"{JUDGES} judges at once for {seconds:.0f} s, {THINK:g} s between forms, "
        f"2 gunicorn workers x 4 threads, {os.cpu_count()} cores"
    )
    print(f"score form requests (open and save): {len(timings)}, errors: {len(errors)}")
    print(
        f"latency: p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms "
        f"(target < 100 ms), max {max(timings) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
