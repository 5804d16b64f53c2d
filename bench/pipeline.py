"""Benchmark the media path on a generated 60 s 1080x1920 30 fps phone-style clip.

Prints: the worker's whole time for one job (download from S3 to all assets stored and
recorded), the raw ffmpeg command it runs, their ratio, the realtime factor, and the peak
memory of this Python process (ffmpeg runs in a child and is not counted).

Needs the S3 server (`make bench` starts it). Run by hand: `make bench`.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    # Run as `python bench/pipeline.py`, bench/judging.py would shadow the `judging` package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.seed import bench_entry  # noqa: E402
from storage.database import make_engine, make_session_factory, upgrade  # noqa: E402
from storage.models import Job  # noqa: E402
from storage.objects import ObjectStore, original_key  # noqa: E402
from storage.settings import Settings  # noqa: E402
from tests.media import make_clip  # noqa: E402
from worker.jobs import process_job  # noqa: E402
from worker.media.command import CANDIDATES, STORYBOARD, build_command  # noqa: E402
from worker.media.pipeline import command_for, plan_for, probe_file  # noqa: E402

SECONDS = 60


def make_source(path: Path) -> None:
    make_clip(path, 1080, 1920, SECONDS, fps=30, extra=["-preset", "veryfast", "-b:v", "8M"])


def _run(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def timed_commands(settings: Settings, source: Path, work: Path) -> tuple[float, float]:
    """Seconds of (the one command the worker runs, one command per output in turn)."""
    plan = plan_for(probe_file(str(source), settings), settings)
    out = work / "raw"
    out.mkdir()
    single = _run(command_for(plan, str(source), str(out), settings, 1))  # writes watermarks
    marks = {r.name: str(out / f"watermark_{r.name}.png") for r in plan.renditions}
    parts = [r.name for r in plan.renditions] + [CANDIDATES, STORYBOARD]
    naive = sum(
        _run(
            build_command(
                plan,
                str(source),
                str(out),
                marks,
                settings.watermark_position,
                settings.ffmpeg_bin,
                parts=[part],
            )
        )
        for part in parts
    )
    return single, naive


def timed_worker_job(settings: Settings, source: Path) -> float:
    factory = make_session_factory(make_engine(settings.database_url))
    store = ObjectStore(settings)
    store.ensure_buckets()
    with factory() as session:
        entry = bench_entry(session)
        key = original_key(entry.id, "bench")
        store.put_file(settings.bucket_originals, key, str(source), "video/mp4")
        job = Job(entry=entry, source_key=key)
        session.add(job)
        session.commit()
        job_id = job.id
    started = time.perf_counter()
    state = process_job(factory, store, settings, job_id)
    elapsed = time.perf_counter() - started
    if state.value != "ready":
        sys.exit(f"the job ended {state.value}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "bench.db"
        settings = Settings.from_env(
            database_url=f"sqlite:///{db}",
            bucket_originals="fp-bench-originals",
            bucket_assets="fp-bench-assets",
        )
        upgrade(settings.database_url)
        source = work / "source.mp4"
        make_source(source)
        print(
            f"source: {SECONDS} s 1080x1920 30 fps, {source.stat().st_size / 1e6:.1f} MB, "
            f"{os.cpu_count()} cores"
        )
        raw, naive = timed_commands(settings, source, work)
        whole = timed_worker_job(settings, source)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"(a) the one ffmpeg command:     {raw:7.2f} s")
        print(f"(b) one ffmpeg run per output:  {naive:7.2f} s")
        print(f"worker job, S3 in and out:      {whole:7.2f} s")
        print(f"    against (a): {whole / raw:.2f}x (target <= 1.10x)")
        print(f"    against (b): {whole / naive:.2f}x (target <= 0.92x)")
        print(f"realtime factor:                {SECONDS / whole:7.2f}x")
        print(f"worker peak memory:             {peak_mb:7.1f} MB (ffmpeg aside; target < 150 MB)")


if __name__ == "__main__":
    main()
