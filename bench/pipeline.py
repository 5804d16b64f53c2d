"""Benchmark the media path: speed against a PeerTube-style reference, memory on long entries.

Prints, for generated phone-style clips with sound:
1. 60 s 1080x1920 30 fps: the whole `media process` (audio pass, the one video run,
   posters) against a reference that runs one ffmpeg per rendition (same sizes, watermark
   overlay, x264 veryfast, CRF 23 with maxrate, AAC 128k, faststart) plus a thumbnail-filter
   poster and a tile storyboard, timed in the order project, reference, reference, project;
   then the worker's whole job with S3 in and out.
2. 10 minutes 1080x1920 (the longest entry the default settings allow) and 20 s of 4K 60 fps
   HEVC: time, realtime factor, ffmpeg's peak memory and the worker's own peak, separately.

Memory is the kernel's high-water mark of each process since it started (VmHWM): ffmpeg's as
the worker samples it, the pipeline's Python side in a process that runs the pipeline alone.
Needs the S3 server (`make bench` starts it). Run by hand: `make bench`; `--skip-long` for the 60 s
part alone, `--skip-speed` for the long cases alone.
"""

from __future__ import annotations

import argparse
import json
import os
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
from worker.media.pipeline import (  # noqa: E402
    Manifest,
    plan_for,
    probe_file,
    process_file,
    watermark_style,
)
from worker.media.plan import AUDIO_BITRATE, CRF, EncodingPlan  # noqa: E402
from worker.media.watermark import margin_for, overlay_position, render_watermark  # noqa: E402

MIB = 1024**2
PHONE = ["-b:v", "8M"]  # what a phone's encoder writes, roughly


def make_source(
    path: Path, width: int, height: int, seconds: float, preset: str = "veryfast"
) -> Path:
    extra = ["-preset", preset, *PHONE]
    make_clip(path, width, height, seconds, fps=30, extra=extra, timeout=60 + seconds * 2)
    return path


def _run(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return time.perf_counter() - started


def reference_commands(
    plan: EncodingPlan, source: Path, out: Path, settings: Settings
) -> list[list[str]]:
    """How a PeerTube-style transcoder does it: one ffmpeg per output, each decoding anew."""
    style = watermark_style(settings)
    commands = []
    for r in plan.renditions:
        mark = out / f"ref_mark_{r.name}.png"
        render_watermark(style, 1, r.width, r.height).save(mark)
        x, y = overlay_position(style.position, margin_for(r.width, r.height))
        graph = f"[0:v]fps={plan.fps:g},scale={r.width}:{r.height}[v];[v][1:v]overlay={x}:{y}"
        commands.append(
            ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-i", str(mark)]
            + ["-filter_complex", graph, "-map", "0:a:0?"]
            + ["-c:v", "libx264", "-preset", "veryfast", "-crf", str(CRF)]
            + ["-maxrate", f"{r.maxrate_k}k", "-bufsize", f"{r.maxrate_k * 2}k"]
            + ["-pix_fmt", "yuv420p", "-g", str(plan.keyframe_interval)]
            + ["-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", "48000", "-ac", "2"]
            + ["-movflags", "+faststart", str(out / f"ref_{r.name}.mp4")]
        )
    board = plan.storyboard
    commands.append(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-vf", "thumbnail", "-frames:v", "1"]
        + [str(out / "ref_poster.jpg")]
    )
    tiles = f"fps=1/{board.interval:g},scale={board.tile_width}:{board.tile_height}"
    commands.append(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source)]
        + ["-vf", f"{tiles},tile={board.columns}x{board.rows}", "-frames:v", "1"]
        + [str(out / "ref_storyboard.jpg")]
    )
    return commands


def timed_project(source: Path, work: Path, settings: Settings) -> tuple[float, Manifest]:
    out = Path(tempfile.mkdtemp(dir=work))
    started = time.perf_counter()
    manifest = process_file(str(source), str(out), settings, entry_number=1)
    return time.perf_counter() - started, manifest


def speed_against_reference(source: Path, work: Path, settings: Settings) -> None:
    plan = plan_for(probe_file(str(source), settings), settings)
    ref_dir = work / "reference"
    ref_dir.mkdir(exist_ok=True)
    commands = reference_commands(plan, source, ref_dir, settings)
    project = [timed_project(source, work, settings)[0]]
    reference = [sum(_run(c) for c in commands) for _ in range(2)]
    project.append(timed_project(source, work, settings)[0])
    mean_project, mean_reference = sum(project) / 2, sum(reference) / 2
    print(f"  project (media process):     {' '.join(f'{t:7.2f} s' for t in project)}")
    print(f"  reference (one run/output):  {' '.join(f'{t:7.2f} s' for t in reference)}")
    print(f"  ratio: {mean_project / mean_reference:.2f} (target <= 0.90)")


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


# `footprints media process` as a process of its own, so its peak is the pipeline's alone
# (not this benchmark's imports and earlier cases): the CLI's path without the CLI around it.
PIPELINE_ALONE = """
import json, os, sys, tempfile, time
from storage.settings import Settings
from worker.media.ffmpeg_run import memory_of
from worker.media.pipeline import process_file
started = time.perf_counter()
manifest = process_file(sys.argv[1], tempfile.mkdtemp(dir=sys.argv[2]), Settings.from_env(), 1)
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "length": manifest.source.length,
    "ffmpeg_peak": manifest.run.peak_bytes,
    "self_peak": memory_of(os.getpid())[1],
}))
"""


def long_case(name: str, source: Path, work: Path, target_mib: int) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", PIPELINE_ALONE, str(source), str(work)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    ffmpeg_mib, self_mib = figures["ffmpeg_peak"] / MIB, figures["self_peak"] / MIB
    print(f"{name}: {source.stat().st_size / 1e6:.0f} MB")
    print(f"  whole media process:         {figures['seconds']:7.1f} s")
    print(f"  realtime factor:             {figures['length'] / figures['seconds']:7.2f}x")
    print(f"  ffmpeg peak memory:          {ffmpeg_mib:7.0f} MiB")
    print(f"  pipeline's own peak:         {self_mib:7.0f} MiB (the Python side, ffmpeg aside)")
    both = ffmpeg_mib + self_mib
    print(f"  both at once, at most:       {both:7.0f} MiB (target < {target_mib} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-long", action="store_true", help="only the 60 s comparison")
    parser.add_argument("--skip-speed", action="store_true", help="only the long cases")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "bench.db"
        settings = Settings.from_env(
            database_url=f"sqlite:///{db}",
            bucket_originals="fp-bench-originals",
            bucket_assets="fp-bench-assets",
        )
        upgrade(settings.database_url)
        print(f"{os.cpu_count()} cores")
        if not options.skip_speed:
            source = make_source(work / "source60.mp4", 1080, 1920, 60)
            print(f"60 s 1080x1920 30 fps: {source.stat().st_size / 1e6:.1f} MB")
            speed_against_reference(source, work, settings)
            whole = timed_worker_job(settings, source)
            print(f"  worker job, S3 in and out:   {whole:7.2f} s ({60 / whole:.2f}x realtime)")
        if options.skip_long:
            return
        # ultrafast: at veryfast, making the 10-minute source would take minutes more.
        longest = settings.max_duration_seconds
        long_source = make_source(work / "source600.mp4", 1080, 1920, longest, "ultrafast")
        long_case("10 min 1080x1920 30 fps", long_source, work, 600)
        long_source.unlink()
        hevc = work / "hevc4k.mp4"
        make_clip(
            hevc, 3840, 2160, 20, fps=60, timeout=600,
            extra=["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1",
                   "-x265-params", "log-level=error"],
        )  # fmt: skip
        long_case("20 s 3840x2160 60 fps HEVC", hevc, work, 1024)


if __name__ == "__main__":
    main()
