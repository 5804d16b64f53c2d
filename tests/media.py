"""Test media, generated with ffmpeg's lavfi sources (nothing is committed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def make_clip(
    path: Path,
    width: int = 640,
    height: int = 360,
    seconds: float = 2.0,
    fps: int = 25,
    audio: bool = True,
    extra: list[str] | None = None,
    timeout: float = 120,
) -> Path:
    """A test-pattern clip with a sine tone, H.264/AAC in MP4 unless `extra` says otherwise."""
    args = [
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}",
    ]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
        args += ["-c:a", "aac", "-shortest"]
    args += ["-c:v", "libx264", "-pix_fmt", "yuv420p", *(extra or []), str(path)]
    subprocess.run(args, check=True, timeout=timeout)
    return path


def ffprobe(path: Path | str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def streams(info: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in info["streams"] if s["codec_type"] == kind]


def image_size(path: Path | str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, failing the test on an error."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def loudness_of(path: Path | str) -> dict[str, float]:
    """ffmpeg's own EBU R128 measurement of a file's sound: input_i, input_tp, input_lra."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0"]
        + ["-af", "loudnorm=print_format=json", "-f", "null", "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stderr
    block = out[out.rindex("{") : out.rindex("}") + 1]
    return {key: float(value) for key, value in json.loads(block).items() if key.startswith("in")}
