"""The encoding plan: everything one ffmpeg run makes from a probed source."""

from __future__ import annotations

import math
from dataclasses import dataclass

from worker.media.loudness import Normalisation
from worker.media.probe import ProbeResult

MAX_FPS = 30.0
# Bitrate caps (kbit/s) by short side; CRF sets the quality, the cap bounds the worst case.
MAXRATE_K = {480: 1400, 720: 2800, 1080: 5000}
AUDIO_BITRATE = "128k"
CRF = 23
DEFAULT_LADDER = (1080, 720, 480)
POSTER_CANDIDATES = 7
# Storyboard thumbnails: short side in pixels, columns in the sprite sheet.
TILE_SHORT_SIDE = 90
TILE_COLUMNS = 10


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
class Storyboard:
    """A sprite sheet of thumbnails, one every `interval` seconds, `columns` wide."""

    interval: float
    count: int
    columns: int
    tile_width: int
    tile_height: int
    image_file: str = "storyboard.jpg"
    vtt_file: str = "storyboard.vtt"

    @property
    def rows(self) -> int:
        return math.ceil(self.count / self.columns)


@dataclass(frozen=True)
class EncodingPlan:
    source: ProbeResult
    renditions: tuple[Rendition, ...]
    fps: float
    poster_interval: float
    storyboard: Storyboard
    poster_candidates: int = POSTER_CANDIDATES
    candidate_pattern: str = "candidate_%02d.jpg"
    # What to do to the sound (None: no audio, or no measurement).
    normalisation: Normalisation | None = None
    qc_metadata_file: str = "qc_video.txt"
    # No decoded frame may be larger than this on either side (MAX_DIMENSION), even one that
    # grows after the frames the probe saw.
    max_dimension: int = 4096

    @property
    def duration(self) -> float:
        """Length of every output, in seconds."""
        return self.source.length

    @property
    def keyframe_interval(self) -> int:
        """Frames between keyframes: every 2 seconds, the same in every rendition."""
        return max(1, round(2 * self.fps))

    @property
    def largest(self) -> Rendition:
        return self.renditions[0]


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def fit_short_side(width: int, height: int, short_side: int) -> tuple[int, int]:
    """Scale (width, height) so its short side is `short_side`, never upscaling; even sizes."""
    short = min(width, height)
    if short <= short_side:
        return (width // 2 * 2 or 2), (height // 2 * 2 or 2)
    factor = short_side / short
    return _even(width * factor), _even(height * factor)


def ladder_for(width: int, height: int, ladder: tuple[int, ...] = DEFAULT_LADDER) -> list[int]:
    """The short sides to make: those the source can fill, and always the smallest."""
    short = min(width, height)
    sides = [side for side in sorted(ladder, reverse=True) if side <= short]
    smallest = min(ladder)
    if smallest not in sides:
        # A source smaller than the smallest rung is made once, at its own size.
        sides.append(min(smallest, short))
    return sides


def _maxrate(short_side: int) -> int:
    for side, rate in sorted(MAXRATE_K.items()):
        if short_side <= side:
            return rate
    return max(MAXRATE_K.values())


def plan_storyboard(source: ProbeResult, max_tiles: int = 100) -> Storyboard:
    """One thumbnail every second or more, at most `max_tiles`, keeping the orientation."""
    interval = max(1.0, math.ceil(source.length / max_tiles))
    count = max(1, min(max_tiles, math.ceil(source.length / interval)))
    width, height = fit_short_side(source.width, source.height, TILE_SHORT_SIDE)
    return Storyboard(
        interval=interval,
        count=count,
        columns=min(TILE_COLUMNS, count),
        tile_width=width,
        tile_height=height,
    )


def plan_encoding(
    source: ProbeResult,
    ladder: tuple[int, ...] = DEFAULT_LADDER,
    max_tiles: int = 100,
    normalisation: Normalisation | None = None,
    max_dimension: int = 4096,
) -> EncodingPlan:
    """Plan the renditions, poster candidates and storyboard for `source`."""
    renditions = []
    for side in ladder_for(source.width, source.height, ladder):
        width, height = fit_short_side(source.width, source.height, side)
        label = min(width, height)
        renditions.append(Rendition(f"h264_{label}p", width, height, _maxrate(label)))
    fps = min(source.fps, MAX_FPS) if source.fps > 0 else MAX_FPS
    return EncodingPlan(
        source=source,
        renditions=tuple(renditions),
        fps=fps,
        # Candidates spread over the whole video: the first frame, then evenly after it.
        poster_interval=max(source.length / POSTER_CANDIDATES, 1 / fps),
        storyboard=plan_storyboard(source, max_tiles),
        normalisation=normalisation,
        max_dimension=max_dimension,
    )
