"""Everyone at once: 100 judges scoring and 20 contestants uploading while a worker transcodes.

Starts gunicorn and one Celery worker on loopback against a throwaway PostgreSQL database
(TEST_DATABASE_ADMIN_URL), the local RabbitMQ (private queues) and the local S3 server. For
BENCH_SECONDS (default 60) after every judge has logged in:
- 100 judges open and save score forms, pausing BENCH_THINK_SECONDS (default 10; a real judge
  watches a video for minutes) between forms;
- 20 contestants log in through the form and upload a real 6 MB video with the resumable (tus)
  protocol in 5 MiB parts, each at BENCH_UPLOAD_MBPS (default 1 MB/s, a phone's 4G uplink),
  pausing BENCH_UPLOAD_PAUSE_SECONDS (default 10) between uploads, as people filling a form;
- the worker (run at a lower CPU priority, as it should share a machine) transcodes them.
Then it waits for the queue to drain. Prints the error count, page latency percentiles (target:
p95 < 200 ms), uploads and megabytes per 10 s window, and how long the queue took to drain.
Run by hand: `python bench/load.py`.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from kombu import Connection

if __package__ in (None, ""):
    # Run as `python bench/load.py`, bench/judging.py would shadow the `judging` package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.score_form import ARRIVAL, judge_loop  # noqa: E402
from bench.seed import (  # noqa: E402
    PASSWORD,
    log_in,
    seed_judging,
    start_web,
    throwaway_database,
)
from storage.database import make_engine, make_session_factory  # noqa: E402
from storage.models import Job, JobState  # noqa: E402
from storage.objects import ObjectStore  # noqa: E402
from storage.settings import Settings  # noqa: E402
from worker.queues import all_queues  # noqa: E402

JUDGES = int(os.environ.get("BENCH_JUDGES", "100"))
UPLOADERS = int(os.environ.get("BENCH_UPLOADERS", "20"))
ENTRIES = 3 * JUDGES
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
THINK = float(os.environ.get("BENCH_THINK_SECONDS", "10"))
UPLOAD_MBPS = float(os.environ.get("BENCH_UPLOAD_MBPS", "1"))
UPLOAD_PAUSE = float(os.environ.get("BENCH_UPLOAD_PAUSE_SECONDS", "10"))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "4"))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", "32"))
CHUNK = 5 * 1024 * 1024
WINDOW = 10.0  # seconds per line of the upload figures
DRAIN_LIMIT = 900.0
DRAIN = os.environ.get("BENCH_WAIT_FOR_DRAIN", "1") != "0"  # 0: skip, for quick experiments


class Paced:
    """A request body sent no faster than `rate` bytes a second (a phone's uplink)."""

    def __init__(self, data: bytes, rate: float) -> None:
        self.data, self.rate, self.position = data, rate, 0
        self.started = time.monotonic()

    def __len__(self) -> int:
        return len(self.data)

    def read(self, size: int = -1) -> bytes:
        size = 64 * 1024 if size < 0 else min(size, 64 * 1024)
        due = self.started + self.position / self.rate
        time.sleep(max(0.0, due - time.monotonic()))
        block = self.data[self.position : self.position + size]
        self.position += len(block)
        return block


def make_video(folder: Path) -> bytes:
    """A 6 s vertical phone-like clip of about 6 MB (two parts)."""
    path = folder / "phone.mp4"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=720x1280:rate=30:duration=6",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=6",
            "-c:v", "libx264", "-b:v", "8M", "-minrate", "8M", "-maxrate", "8M",
            "-bufsize", "4M", "-x264-params", "nal-hrd=cbr", "-c:a", "aac", "-shortest",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def uploader(
    base: str,
    username: str,
    video: bytes,
    measure_from: float,
    until: float,
    done: list[tuple[float, int]],
    errors: list[str],
) -> None:
    """One contestant: log in, then upload the video to their entry again and again."""
    http = requests.Session()
    log_in(http, base, username, PASSWORD)
    entry = http.get(f"{base}/api/v1/entries", timeout=30).json()["entries"][0]["id"]
    # People do not start at the same second: spread the first uploads over one cycle.
    cycle = len(video) / (UPLOAD_MBPS * 1e6) + UPLOAD_PAUSE
    time.sleep(random.Random(username).uniform(0, cycle))  # noqa: S311 - not for secrets
    tus = {"Tus-Resumable": "1.0.0"}
    while time.monotonic() < until:
        created = http.post(
            f"{base}/api/v1/entries/{entry}/uploads",
            headers={**tus, "Upload-Length": str(len(video))},
            timeout=30,
        )
        if created.status_code != 201:
            errors.append(f"upload create {created.status_code}")
            time.sleep(UPLOAD_PAUSE)
            continue
        url = base + created.headers["Location"]
        offset = 0
        while offset < len(video):
            part = Paced(video[offset : offset + CHUNK], UPLOAD_MBPS * 1e6)
            answer = http.patch(
                url,
                data=part,
                headers={
                    **tus,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
                timeout=120,
            )
            if answer.status_code != 204:
                errors.append(f"upload part {answer.status_code}")
                break
            offset = int(answer.headers["Upload-Offset"])
        else:
            if time.monotonic() > measure_from:
                done.append((time.monotonic(), len(video)))
        time.sleep(UPLOAD_PAUSE)


def upload_all(base: str, video: bytes, measure_from: float, until: float, results: Any) -> None:
    """Every contestant's uploads, in threads of this process; reports (done, errors)."""
    done: list[tuple[float, int]] = []
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=uploader,
            args=(base, f"contestant{n}", video, measure_from, until, done, errors),
        )
        for n in range(UPLOADERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((done, errors))


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [
                "nice", "-n", "10", sys.executable, "-m", "celery", "-A", "worker.celery_app",
                "worker", "--loglevel=WARNING", "--concurrency=1", "--without-gossip",
                "--without-mingle", "-n", f"load-{uuid.uuid4().hex[:6]}@%h",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def main() -> None:
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp, throwaway_database() as url:
        video = make_video(Path(tmp))
        seed_judging(url, JUDGES, ENTRIES, contestants=UPLOADERS)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "FOOTPRINTS_SECRET_KEY": "bench",
            "LOGIN_RATE_LIMIT": "100000/minute",
            "UPLOAD_RATE_LIMIT": "100000/hour",
            "UPLOAD_CHUNK_BYTES": str(CHUNK),
            "FOOTPRINTS_MEDIA_QUEUE": f"bench-{tag}",
            "FOOTPRINTS_SHORT_QUEUE": f"bench-{tag}-short",
        }
        settings = Settings.from_env(env)
        ObjectStore(settings).ensure_buckets()
        web, base = start_web(env, WEB_WORKERS, "--threads", str(WEB_THREADS), "--keep-alive", "30")
        worker = start_worker(env, Path(tmp) / "worker.log")
        timings: list[float] = []
        errors: list[str] = []
        uploads: list[tuple[float, int]] = []
        try:
            began = time.monotonic()
            measure_from = began + JUDGES * ARRIVAL + 2  # once every judge has logged in
            until = measure_from + SECONDS
            threads = [
                threading.Thread(
                    target=judge_loop,
                    args=(base, f"judge{n}", began + n * ARRIVAL, measure_from, until),
                    kwargs={"timings": timings, "errors": errors, "think": THINK},
                )
                for n in range(JUDGES)
            ]
            # Uploaders push megabytes through Python: in a process of their own, so that the
            # judges' clocks do not wait for the client's GIL.
            results: multiprocessing.Queue[Any] = multiprocessing.Queue()
            uploaders = multiprocessing.Process(
                target=upload_all, args=(base, video, measure_from, until, results)
            )
            uploaders.start()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            uploaded, upload_errors = results.get(timeout=600)
            uploaders.join()
            uploads.extend(uploaded)
            errors.extend(upload_errors)
            load_end = time.monotonic()
            drained_in = wait_for_drain(url, load_end) if DRAIN else None
        finally:
            web.terminate()
            web.wait(timeout=30)
            worker.terminate()
            worker.wait(timeout=60)
            with Connection(settings.broker_url) as conn:
                for queue in all_queues(settings):
                    conn.default_channel.queue_delete(queue.name)
        report(timings, errors, uploads, measure_from, drained_in, url)


def wait_for_drain(url: str, since: float) -> float | None:
    """Seconds until no job is queued or running, or None past DRAIN_LIMIT."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        while time.monotonic() - since < DRAIN_LIMIT:
            with factory() as session:
                left = (
                    session.query(Job)
                    .filter(Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
                    .count()
                )
            if left == 0:
                return time.monotonic() - since
            time.sleep(2)
        return None
    finally:
        engine.dispose()


def report(
    timings: list[float],
    errors: list[str],
    uploads: list[tuple[float, int]],
    measure_from: float,
    drained_in: float | None,
    url: str,
) -> None:
    cuts = statistics.quantiles(timings, n=100)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        states: Counter[Any] = Counter(job.state.value for job in session.query(Job))
    engine.dispose()
    print(
        f"{JUDGES} judges ({THINK:g} s between forms) and {UPLOADERS} contestants uploading "
        f"({UPLOAD_MBPS:g} MB/s each, {UPLOAD_PAUSE:g} s between uploads) for {SECONDS:.0f} s; "
        f"gunicorn {WEB_WORKERS} workers x {WEB_THREADS} threads, 1 Celery worker (nice 10), "
        f"{os.cpu_count()} cores"
    )
    requests_made = len(timings)
    print(
        f"judge requests: {requests_made}, errors: {len(errors)} "
        f"({len(errors) / max(1, requests_made + len(uploads)):.2%})"
        + (f": {Counter(errors).most_common(5)}" if errors else "")
    )
    print(
        f"page latency: p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms "
        f"(target < 200 ms), p99 {cuts[98] * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms"
    )
    windows: Counter[int] = Counter()
    megabytes: Counter[int] = Counter()
    for finished, size in uploads:
        window = int((finished - measure_from) // WINDOW)
        windows[window] += 1
        megabytes[window] += size
    lines = [
        f"{int(w * WINDOW):>3}-{int((w + 1) * WINDOW):<3}s {windows[w]:>3} uploads "
        f"{megabytes[w] / 1e6:6.1f} MB"
        for w in range(int(SECONDS // WINDOW))
    ]
    print(f"uploads finished: {len(uploads)} ({sum(s for _, s in uploads) / 1e6:.0f} MB)")
    print("  " + "\n  ".join(lines))
    drained = "not within 15 min" if drained_in is None else f"{drained_in:.0f} s after the load"
    print(f"queue drained: {drained}; jobs by state: {dict(states)}")


if __name__ == "__main__":
    main()
