"""Run one ffmpeg command, reporting progress and killing it on a time limit."""

from __future__ import annotations

import subprocess  # noqa: S404 - ffmpeg is an external program by design
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, cast

from worker.media.subprocesses import SubprocessTimeout, kill_group, popen

# (percent 0-100, estimated seconds left or None)
ProgressCallback = Callable[[float, float | None], None]


class FfmpegFailed(RuntimeError):
    """ffmpeg exited with an error; `detail` holds the end of what it printed."""

    def __init__(self, returncode: int, detail: str) -> None:
        super().__init__(f"ffmpeg exited with {returncode}: {detail}")
        self.returncode = returncode
        self.detail = detail


@dataclass
class ProgressTracker:
    """Turns ffmpeg's `-progress` key=value lines into a percent and a time estimate."""

    duration: float
    callback: ProgressCallback | None
    every: float = 2.0
    started: float = 0.0
    encoded: float = 0.0  # seconds of output written so far
    _last_report: float = 0.0

    def __post_init__(self) -> None:
        self.started = self._last_report = time.monotonic()

    def feed(self, line: str) -> None:
        key, _, value = line.strip().partition("=")
        if key not in {"out_time_us", "out_time_ms"} or not value.lstrip("-").isdigit():
            return
        self.encoded = max(self.encoded, int(value) / 1_000_000)
        now = time.monotonic()
        if self.callback is None or now - self._last_report < self.every or self.duration <= 0:
            return
        done = max(0.0, min(1.0, self.encoded / self.duration))
        elapsed = now - self.started
        eta = elapsed * (1 - done) / done if done > 0.01 else None
        self._last_report = now
        self.callback(round(done * 100, 1), eta)


def run_ffmpeg(
    args: Sequence[str],
    duration: float,
    timeout: float,
    on_progress: ProgressCallback | None = None,
) -> float:
    """Run ffmpeg `args` (which must include `-progress pipe:1`) within `timeout` seconds.

    Returns the seconds of output it wrote.
    """
    tracker = ProgressTracker(duration, on_progress)
    # stderr goes to a file: a pipe nobody drains could fill up and stall ffmpeg.
    with tempfile.TemporaryFile() as errors:
        proc = popen(args, stdout=subprocess.PIPE, stderr=errors)
        expired = threading.Event()

        def _expire() -> None:
            expired.set()
            kill_group(proc)

        timer = threading.Timer(timeout, _expire)
        timer.daemon = True
        timer.start()
        progress = cast(IO[bytes], proc.stdout)  # a pipe: stdout=PIPE above
        try:
            with progress:
                for raw in progress:
                    tracker.feed(raw.decode("ascii", "replace"))
            proc.wait()
        except BaseException:
            # Worker shutdown or task revoke: never leave an orphan ffmpeg behind.
            kill_group(proc)
            raise
        finally:
            timer.cancel()
        if expired.is_set():
            raise SubprocessTimeout(f"ffmpeg ran longer than {timeout:.0f} s")
        if proc.returncode != 0:
            errors.seek(0)
            detail = errors.read()[-2000:].decode("utf-8", "replace").strip()
            raise FfmpegFailed(proc.returncode, detail)
    return tracker.encoded
