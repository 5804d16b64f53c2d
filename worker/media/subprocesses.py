"""Run ffmpeg and ffprobe with a time limit, killing the whole process group on expiry."""

from __future__ import annotations

import ctypes
import functools
import os
import resource
import signal
import subprocess  # noqa: S404 - the media tools are external programs by design
import sys
from collections.abc import Sequence
from typing import IO

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """In a child before exec: be killed when the process that started us dies.

    A worker killed with SIGKILL cannot kill its ffmpeg; the kernel then does, so a crashed
    worker never leaves an orphan transcode behind.
    """
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _limited_child(memory_bytes: int | None) -> None:
    """In a child before exec: die with the parent and, if given, cap its address space."""
    die_with_parent()
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def popen(
    args: Sequence[str],
    memory_bytes: int | None = None,
    stdout: int | IO[bytes] | None = None,
    stderr: int | IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a media tool in its own process group, tied to our life.

    With `memory_bytes` the tool's address space is capped (RLIMIT_AS): past it its
    allocations fail and it exits, instead of the kernel's OOM killer choosing a victim.
    """
    return subprocess.Popen(  # noqa: S603 - args are built by us, never a shell string
        list(args),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=functools.partial(_limited_child, memory_bytes),  # noqa: PLW1509 - no threads touch state before exec
        stdout=stdout,
        stderr=stderr,
    )


class SubprocessTimeout(RuntimeError):
    """A media tool ran past its time limit and was killed."""


def signal_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started with `start_new_session=True` and all it spawned; no wait."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a process group as `signal_group` does, and reap its leader."""
    signal_group(proc)
    proc.wait()


def run_bounded(
    args: Sequence[str], timeout: float, memory_bytes: int | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `args` to completion within `timeout` seconds (and `memory_bytes`), capturing output."""
    proc = popen(args, memory_bytes=memory_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _stop(proc)
        raise SubprocessTimeout(f"{args[0]} ran longer than {timeout:.0f} s") from exc
    except BaseException:
        _stop(proc)
        raise
    return subprocess.CompletedProcess(list(args), proc.returncode, out, err)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill a stopped-short run's group and close the pipes communicate() left open."""
    kill_group(proc)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
