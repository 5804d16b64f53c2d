"""Choose the poster among candidate frames and write it at three sizes."""

from __future__ import annotations

import os
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageStat

# Long side of each poster size; "large" keeps the largest rendition's size.
POSTER_SIZES = {"poster_large": None, "poster_medium": 640, "poster_small": 320}
# Mean luma below or above these is a black or blown-out frame, never a poster.
DARK, BRIGHT = 24, 240


@dataclass(frozen=True)
class FrameScore:
    path: str
    brightness: float
    sharpness: float

    @property
    def usable(self) -> bool:
        return DARK <= self.brightness <= BRIGHT


def score_frame(path: str) -> FrameScore:
    """Mean brightness and sharpness (variance of edges) of a frame, on a small copy."""
    with Image.open(path) as img:
        # JPEG decodes straight to a small grey copy: a 1080x1920 frame in full is 6 MB.
        img.draft("L", (320, 320))
        gray = img.convert("L")
        gray.thumbnail((320, 320))
    edges = gray.filter(ImageFilter.FIND_EDGES)
    return FrameScore(path, ImageStat.Stat(gray).mean[0], ImageStat.Stat(edges).var[0])


def choose_poster(paths: list[str]) -> str:
    """The sharpest frame that is neither black nor blown out (the brightest-sharp if none)."""
    if not paths:
        raise ValueError("no candidate frames")
    scores = [score_frame(p) for p in paths]
    usable = [s for s in scores if s.usable] or scores
    return max(usable, key=lambda s: s.sharpness).path


def write_posters(candidate_paths: list[str], out_dir: str) -> list[str]:
    """Write the chosen frame as JPEGs at each size; return their file names, large first."""
    best = choose_poster(candidate_paths)
    names = []
    with Image.open(best) as img:
        frame = img.convert("RGB")
    for name, long_side in POSTER_SIZES.items():  # largest first
        if long_side is not None:
            # In place, each size from the one before: no copy of the full frame per size.
            frame.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        file_name = f"{name}.jpg"
        frame.save(os.path.join(out_dir, file_name), "JPEG", quality=85, optimize=True)
        names.append(file_name)
    for path in candidate_paths:
        os.remove(path)
    return names
