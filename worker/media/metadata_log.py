"""Read the per-frame metadata that ffmpeg's `metadata`/`ametadata` print filter writes."""

from __future__ import annotations

from collections.abc import Iterator


def read_frames(path: str) -> Iterator[tuple[float, dict[str, str]]]:
    """(pts_time, {key: value}) for every frame the print filter wrote to `path`."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return
    time: float | None = None
    values: dict[str, str] = {}
    for line in lines:
        if line.startswith("frame:"):
            if time is not None:
                yield time, values
            time, values = _pts_time(line), {}
        elif "=" in line and time is not None:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    if time is not None:
        yield time, values


def _pts_time(line: str) -> float:
    for part in line.split():
        if part.startswith("pts_time:"):
            try:
                return float(part.removeprefix("pts_time:"))
            except ValueError:
                break
    return 0.0


def spans(
    frames: list[tuple[float, dict[str, str]]], start_key: str, end_key: str, duration: float
) -> list[tuple[float, float]]:
    """(start, end) pairs from frames that carry `start_key` and `end_key` values.

    A detector still inside a segment when the input ends writes no end: it runs to `duration`.
    """
    found: list[tuple[float, float]] = []
    start: float | None = None
    for _, values in frames:
        if start_key in values and start is None:
            start = max(0.0, float(values[start_key]))
        if end_key in values and start is not None:
            found.append((start, float(values[end_key])))
            start = None
    if start is not None and duration > start:
        found.append((start, duration))
    return found
