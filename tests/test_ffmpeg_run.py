"""run_ffmpeg's limits, on stand-in commands: time, memory, and how each end is named."""

from __future__ import annotations

import re
import signal
import time

import pytest

from worker.media.ffmpeg_run import FfmpegFailed, FfmpegOutOfMemory, FfmpegStopped, run_ffmpeg
from worker.media.subprocesses import SubprocessTimeout


def test_a_run_past_its_time_limit_is_killed_and_named() -> None:
    started = time.monotonic()
    with pytest.raises(SubprocessTimeout):
        run_ffmpeg(["sh", "-c", "sleep 30"], duration=1, timeout=0.5)
    assert time.monotonic() - started < 5


def test_a_run_over_its_memory_limit_is_stopped() -> None:
    # Python holding 200 MB for a while, under a 50 MB limit.
    hog = "import time; data = b'x' * (200 * 2**20); time.sleep(30)"
    started = time.monotonic()
    with pytest.raises(FfmpegOutOfMemory) as caught:
        run_ffmpeg(["python3", "-c", hog], duration=1, timeout=60, memory_limit=50 * 2**20)
    assert time.monotonic() - started < 10 and "50 MiB" in caught.value.detail


def test_an_ffmpeg_killed_by_the_kernel_counts_as_out_of_memory() -> None:
    # What the OOM killer does: SIGKILL, which nothing of ours sends outside a limit.
    with pytest.raises(FfmpegOutOfMemory) as caught:
        run_ffmpeg(["sh", "-c", "kill -KILL $$"], duration=1, timeout=30)
    assert caught.value.code == "out_of_memory"


def test_an_error_keeps_the_end_of_what_ffmpeg_said() -> None:
    with pytest.raises(FfmpegFailed) as caught:
        run_ffmpeg(["sh", "-c", "echo 'Invalid data found' >&2; exit 3"], duration=1, timeout=30)
    assert caught.value.returncode == 3 and caught.value.detail == "Invalid data found"
    assert caught.value.code == "ffmpeg"


def test_a_finished_run_reports_its_output_and_peak() -> None:
    lines = "printf 'frame=30\\nout_time_us=1000000\\nprogress=end\\n'"
    run = run_ffmpeg(["sh", "-c", lines], duration=1, timeout=30, memory_limit=2**30)
    assert (run.frames, run.encoded) == (30, 1.0) and run.peak_bytes > 0


STOP = re.compile(rb"Picture size (\d+)x(\d+) exceeds")


def test_a_line_matching_stop_on_stops_the_run() -> None:
    talk = "echo 'Picture size 8192x8192 exceeds the bound' >&2; sleep 30"
    with pytest.raises(FfmpegStopped) as caught:
        run_ffmpeg(["sh", "-c", talk], duration=1, timeout=60, stop_on=STOP)
    # Killed by the watchdog, not ended by itself.
    assert caught.value.returncode == -signal.SIGKILL
    assert caught.value.match.groups() == (b"8192", b"8192")
    assert caught.value.peak_bytes > 0


@pytest.mark.parametrize("before", [0, 65536 - 10, 3 * 65536])
def test_a_run_that_ends_first_is_still_looked_at(before: int) -> None:
    # The line may come before the watchdog first looks, and straddle two reads.
    talk = f"import sys; sys.stderr.write('x' * {before} + 'Picture size 9x9 exceeds')"
    with pytest.raises(FfmpegStopped) as caught:
        run_ffmpeg(["python3", "-c", talk], duration=1, timeout=60, stop_on=STOP)
    assert caught.value.returncode == 0 and caught.value.detail == "Picture size 9x9 exceeds"


def test_without_a_match_the_run_ends_as_it_would() -> None:
    talk = "echo 'Picture size is fine' >&2; exit 3"
    with pytest.raises(FfmpegFailed) as caught:
        run_ffmpeg(["sh", "-c", talk], duration=1, timeout=60, stop_on=STOP)
    assert not isinstance(caught.value, FfmpegStopped) and caught.value.returncode == 3
