"""The encoding plan: which outputs one ffmpeg run makes from a probed source."""

from __future__ import annotations

from dataclasses import dataclass

from worker.media.probe import ProbeResult

MAX_FPS = 30.0
# Bitrate caps (kbit/s) by short side; CRF sets the quality, the cap bounds the worst case.
MAXRATE_K = {1080: 5000, 720: 2800, 480: 1400}
AUDIO_BITRATE = "128k"
CRF = 23


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    maxrate_k: int

    @property
    def file_name(self) -> str:
        return f"{self.name}.mp4"


@dataclass(frozen=True)
class EncodingPlan:
    source: ProbeResult
    renditions: tuple[Rendition, ...]
    fps: float
    poster_time: float
    poster_file: str = "poster.jpg"

    @property
    def keyframe_interval(self) -> int:
        """Frames between keyframes: every 2 seconds, the same in every rendition."""
        return max(1, round(2 * self.fps))


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def fit_short_side(width: int, height: int, short_side: int) -> tuple[int, int]:
    """Scale (width, height) so its short side is `short_side`, never upscaling; even sizes."""
    short = min(width, height)
    if short <= short_side:
        return _even(width - 1 if width % 2 else width), _even(height - 1 if height % 2 else height)
    factor = short_side / short
    return _even(width * factor), _even(height * factor)


def plan_encoding(source: ProbeResult, short_side: int = 720) -> EncodingPlan:
    """Plan the web rendition and the poster for `source`."""
    width, height = fit_short_side(source.width, source.height, short_side)
    label = min(width, height)
    cap = next((rate for side, rate in sorted(MAXRATE_K.items()) if label <= side), 5000)
    rendition = Rendition(name=f"h264_{label}p", width=width, height=height, maxrate_k=cap)
    fps = min(source.fps, MAX_FPS) if source.fps > 0 else MAX_FPS
    # A frame a little way in: the very first frame is often black or a fade.
    poster_time = min(1.0, source.duration / 3)
    return EncodingPlan(source=source, renditions=(rendition,), fps=fps, poster_time=poster_time)
