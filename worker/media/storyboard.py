"""The WebVTT file that maps playback times to tiles of the storyboard sprite sheet."""

from __future__ import annotations

from worker.media.plan import Storyboard


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def storyboard_vtt(board: Storyboard, duration: float, image_url: str | None = None) -> str:
    """WebVTT cues `image#xywh=x,y,w,h`, one per tile, covering the whole duration."""
    image = image_url or board.image_file
    lines = ["WEBVTT", ""]
    for index in range(board.count):
        start = index * board.interval
        if start >= duration and index:
            break
        end = min(duration, start + board.interval)
        x = (index % board.columns) * board.tile_width
        y = (index // board.columns) * board.tile_height
        lines += [
            f"{_timestamp(start)} --> {_timestamp(end)}",
            f"{image}#xywh={x},{y},{board.tile_width},{board.tile_height}",
            "",
        ]
    return "\n".join(lines)
