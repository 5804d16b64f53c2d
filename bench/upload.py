"""Benchmark the upload path: 1 GB through the app's resumable uploads against a direct S3 put.

Starts the real web server (gunicorn, one worker) on loopback against a throwaway SQLite
database, sends a generated 1 GB file as the browser does (tus, one 8 MiB part at a time),
then stores the same file straight into S3 with the minio SDK. Prints both throughputs and
the web process's peak memory, sampled throughout. Needs the S3 server (`make bench` starts
it). Run by hand: `python bench/upload.py [size in MB]`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

if __package__ in (None, ""):
    # Run as `python bench/upload.py`, bench/judging.py would shadow the `judging` package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.seed import PASSWORD, bench_entry, log_in, start_web  # noqa: E402
from storage.database import make_engine, make_session_factory, upgrade  # noqa: E402
from storage.objects import ObjectStore  # noqa: E402
from storage.settings import Settings  # noqa: E402
from web.auth import hash_password  # noqa: E402

CHUNK = 8 * 1024 * 1024
HEADER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def make_file(path: Path, megabytes: int) -> None:
    block = os.urandom(CHUNK)
    with open(path, "wb") as fh:
        fh.write(HEADER)
        for _ in range(megabytes // 8):
            fh.write(block)


def seed(settings: Settings) -> int:
    upgrade(settings.database_url)
    factory = make_session_factory(make_engine(settings.database_url))
    with factory() as session:
        entry = bench_entry(session, hash_password(PASSWORD))
        session.commit()
        return entry.id


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def upload_through_app(http: requests.Session, base: str, entry_id: int, path: Path) -> float:
    """Send the file as the browser does: create, then one PATCH per part."""
    tus = {"Tus-Resumable": "1.0.0"}
    size = path.stat().st_size
    with open(path, "rb") as fh:
        started = time.perf_counter()
        created = http.post(
            f"{base}/api/v1/entries/{entry_id}/uploads",
            headers={**tus, "Upload-Length": str(size)},
            timeout=30,
        )
        created.raise_for_status()
        url = base + created.headers["Location"]
        chunk = int(created.headers["Footprints-Chunk-Size"])
        offset = 0
        while offset < size:
            answer = http.patch(
                url,
                data=fh.read(chunk),
                headers={
                    **tus,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
                timeout=120,
            )
            if answer.status_code != 204:
                sys.exit(f"upload failed at {offset}: {answer.status_code} {answer.text}")
            offset = int(answer.headers["Upload-Offset"])
        return time.perf_counter() - started


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = Settings.from_env(
            database_url=f"sqlite:///{work}/bench.db",
            bucket_originals="fp-bench-originals",
            bucket_assets="fp-bench-assets",
        )
        store = ObjectStore(settings)
        store.ensure_buckets()
        entry_id = seed(settings)
        source = work / "big.mp4"
        make_file(source, megabytes)
        size_mb = source.stat().st_size / 1024**2

        env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "S3_BUCKET_ORIGINALS": settings.bucket_originals,
            "S3_BUCKET_ASSETS": settings.bucket_assets,
            "FOOTPRINTS_SECRET_KEY": "bench",
            "FOOTPRINTS_MEDIA_QUEUE": "footprints-bench",
        }
        web, base = start_web(env, 1, "--timeout", "0")
        peak = {"mb": 0.0}
        running = threading.Event()
        running.set()

        def sample() -> None:
            while running.is_set():
                try:
                    pids = [web.pid, *children(web.pid)]
                    peak["mb"] = max(peak["mb"], *(rss_mb(p) for p in pids))
                except (FileNotFoundError, ProcessLookupError):
                    pass
                time.sleep(0.1)

        try:
            with requests.Session() as http:
                # Logging in runs scrypt (32 MiB, by design); the upload path is measured after.
                log_in(http, base, "bench", PASSWORD)
                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                through_app = upload_through_app(http, base, entry_id, source)
                running.clear()
                sampler.join()
        finally:
            web.terminate()
            web.wait(timeout=30)
        started = time.perf_counter()
        store.put_file(settings.bucket_originals, "bench/direct", str(source), "video/mp4")
        direct = time.perf_counter() - started
        store.delete(settings.bucket_originals, "bench/direct")

    print(f"file: {size_mb:.0f} MB, {os.cpu_count()} cores, loopback")
    print(f"through the app (tus, 8 MiB parts): {size_mb / through_app:7.1f} MB/s")
    print(f"direct S3 put (minio SDK):          {size_mb / direct:7.1f} MB/s")
    print(f"ratio: {direct / through_app:.2f}x direct (target >= 0.7x)")
    print(f"web process peak memory during the upload: {peak['mb']:.1f} MB (target < 100 MB)")


if __name__ == "__main__":
    main()
