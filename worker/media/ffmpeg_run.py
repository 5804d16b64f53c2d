"""Run one ffmpeg command: report progress, measure its peak memory, stop it at its limits."""

from __future__ import annotations

import os
import re
import signal
import subprocess  # noqa: S404 - ffmpeg is an external program by design
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, cast

from worker.media.subprocesses import SubprocessTimeout, popen, signal_group

# (percent 0-100, estimated seconds left or None)
ProgressCallback = Callable[[float, float | None], None]
# How often the watchdog looks at the clock and at ffmpeg's memory.
WATCH_EVERY = 0.2


class FfmpegFailed(RuntimeError):
    """ffmpeg exited with an error; `detail` holds the end of what it printed."""

    code = "ffmpeg"

    def __init__(self, returncode: int, detail: str, peak_bytes: int = 0) -> None:
        super().__init__(f"ffmpeg exited with {returncode}: {detail}")
        self.returncode = returncode
        self.detail = detail
        self.peak_bytes = peak_bytes  # its high-water mark until then (0: never measured)


class FfmpegStopped(FfmpegFailed):
    """ffmpeg printed what the caller's `stop_on` pattern matches; `match` is that text."""

    code = "stopped"

    def __init__(self, returncode: int, match: re.Match[bytes], peak_bytes: int = 0) -> None:
        super().__init__(returncode, match.group(0).decode("utf-8", "replace"), peak_bytes)
        self.match = match


class FfmpegOutOfMemory(FfmpegFailed):
    """ffmpeg passed its memory limit, or the kernel killed it (what its OOM killer does)."""

    code = "out_of_memory"


@dataclass(frozen=True)
class FfmpegRun:
    """What one finished run wrote and cost."""

    encoded: float  # seconds of output written (the longest stream: sound is padded)
    frames: int  # video frames written to the first output
    peak_bytes: int  # ffmpeg's peak resident memory (the kernel's high-water mark, VmHWM)
    seconds: float  # wall-clock time


@dataclass
class ProgressTracker:
    """Turns ffmpeg's `-progress` key=value lines into a percent and a time estimate."""

    duration: float
    callback: ProgressCallback | None
    every: float = 2.0
    started: float = 0.0
    encoded: float = 0.0  # seconds of output written so far
    frames: int = 0  # video frames of the first output written so far
    _last_report: float = 0.0

    def __post_init__(self) -> None:
        self.started = self._last_report = time.monotonic()

    def feed(self, line: str) -> None:
        key, _, value = line.strip().partition("=")
        if key == "frame" and value.isdigit():
            self.frames = max(self.frames, int(value))
            return
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


def memory_of(pid: int) -> tuple[int, int]:
    """(resident now, resident high-water mark) of a process, in bytes; zeros once it is gone.

    The high-water mark is the process's own since exec. getrusage's and wait4's maxrss
    are not: a child forked from the worker starts with the worker's resident size.
    """
    found = {"VmRSS:": 0, "VmHWM:": 0}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                fields = line.split()  # "VmRSS:\t  123456 kB"
                if fields and fields[0] in found:
                    found[fields[0]] = int(fields[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return found["VmRSS:"], found["VmHWM:"]


class _LogScanner:
    """Reads what ffmpeg has printed to its log file so far, looking for one pattern."""

    CHUNK = 1 << 16
    OVERLAP = 1024  # a match may straddle two reads

    def __init__(self, fd: int, pattern: re.Pattern[bytes]) -> None:
        self.fd, self.pattern = fd, pattern
        self.offset = 0
        self.carry = b""

    def scan(self) -> re.Match[bytes] | None:
        """The first match in what was written since the last scan, or None."""
        while chunk := os.pread(self.fd, self.CHUNK, self.offset):
            self.offset += len(chunk)
            window = self.carry + chunk
            if found := self.pattern.search(window):
                return found
            self.carry = window[-self.OVERLAP :]
        return None


class _Watchdog(threading.Thread):
    """Follows ffmpeg's memory and log; stops it past its limits or at a `stop_on` line."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        timeout: float,
        memory_limit: int,
        scanner: _LogScanner | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.proc, self.memory_limit, self.scanner = proc, memory_limit, scanner
        self.deadline = time.monotonic() + timeout
        self.done = threading.Event()
        self.tripped = ""  # "timeout", "memory" or "stop"
        self.peak_bytes = 0
        self.found: re.Match[bytes] | None = None

    def run(self) -> None:
        while not self.done.wait(WATCH_EVERY):
            if time.monotonic() > self.deadline:
                self._trip("timeout")
                continue
            resident, high_water = memory_of(self.proc.pid)
            self.peak_bytes = max(self.peak_bytes, high_water)
            if self.memory_limit and resident > self.memory_limit:
                self._trip("memory")
            elif self.scanner is not None and (found := self.scanner.scan()) is not None:
                # Measured once more while it still runs: what it cost up to that line.
                self.peak_bytes = max(self.peak_bytes, memory_of(self.proc.pid)[1])
                self.found = found
                self._trip("stop")

    def _trip(self, why: str) -> None:
        self.tripped = why
        # Signal only: the main thread reaps ffmpeg, so its exit status is read once.
        signal_group(self.proc)
        self.done.set()


def _reap(proc: subprocess.Popen[bytes]) -> int:
    """Wait for ffmpeg; return its maxrss from wait4, in bytes (see memory_of for its flaw)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss * 1024  # KiB on Linux


def run_ffmpeg(
    args: Sequence[str],
    duration: float,
    timeout: float,
    on_progress: ProgressCallback | None = None,
    memory_limit: int = 0,
    stop_on: re.Pattern[bytes] | None = None,
) -> FfmpegRun:
    """Run ffmpeg `args` (which must include `-progress pipe:1`) within `timeout` seconds.

    `memory_limit` (bytes, 0 for none) bounds ffmpeg's resident memory. When what ffmpeg logs
    matches `stop_on`, it is stopped (within WATCH_EVERY) and FfmpegStopped raised, however
    the run would have ended.
    """
    tracker = ProgressTracker(duration, on_progress)
    started = time.monotonic()
    # stderr goes to a file: a pipe nobody drains could fill up and stall ffmpeg.
    with tempfile.TemporaryFile() as errors:
        proc = popen(args, stdout=subprocess.PIPE, stderr=errors)
        scanner = _LogScanner(errors.fileno(), stop_on) if stop_on is not None else None
        watchdog = _Watchdog(proc, timeout, memory_limit, scanner)
        watchdog.start()
        progress = cast(IO[bytes], proc.stdout)  # a pipe: stdout=PIPE above
        try:
            with progress:
                for raw in progress:
                    tracker.feed(raw.decode("ascii", "replace"))
        except BaseException:
            # Worker shutdown or task revoke: never leave an orphan ffmpeg behind.
            signal_group(proc)
            _reap(proc)
            raise
        finally:
            watchdog.done.set()
        maxrss = _reap(proc)
        watchdog.join()
        # The high-water mark sampled while it ran; for a run too short to sample, maxrss.
        peak = watchdog.peak_bytes or maxrss
        # A run too short for the watchdog to look at its log is looked at now.
        found = watchdog.found or (scanner.scan() if scanner is not None else None)
        if found is not None:
            raise FfmpegStopped(proc.returncode, found, peak)
        if proc.returncode != 0:
            if watchdog.tripped == "timeout":
                raise SubprocessTimeout(f"ffmpeg ran longer than {timeout:.0f} s")
            errors.seek(0)
            detail = errors.read()[-2000:].decode("utf-8", "replace").strip()
            if watchdog.tripped == "memory":
                limit_mb = memory_limit / 1024**2
                raise FfmpegOutOfMemory(proc.returncode, f"memory passed {limit_mb:.0f} MiB", peak)
            if proc.returncode == -signal.SIGKILL:
                # Nobody here sent it: on Linux that is the kernel's out-of-memory killer.
                raise FfmpegOutOfMemory(proc.returncode, detail or "killed by the system", peak)
            raise FfmpegFailed(proc.returncode, detail, peak)
    return FfmpegRun(tracker.encoded, tracker.frames, peak, time.monotonic() - started)
