"""Run ffmpeg and ffprobe with a time limit, killing the whole process group on expiry."""

from __future__ import annotations

import os
import signal
import subprocess  # noqa: S404 - the media tools are external programs by design
from collections.abc import Sequence


class SubprocessTimeout(RuntimeError):
    """A media tool ran past its time limit and was killed."""


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a process started with `start_new_session=True` and everything it spawned."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def run_bounded(args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run `args` to completion within `timeout` seconds, capturing its output."""
    proc = subprocess.Popen(  # noqa: S603 - args are built by us, never a shell string
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        kill_group(proc)
        raise SubprocessTimeout(f"{args[0]} ran longer than {timeout:.0f} s") from exc
    except BaseException:
        kill_group(proc)
        raise
    return subprocess.CompletedProcess(list(args), proc.returncode, out, err)
