"""The share poster of a gallery entry, drawn with Pillow: what people post in chat apps.

A tall 1080x1920 PNG: the contest's name on the red band, the entry's poster frame, its
title and collective, and a QR code of its gallery address. Plain Python: the short-task
worker calls it, and so can a test.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import segno
from PIL import Image, ImageDraw, ImageFont, ImageOps

SIZE = (1080, 1920)
RED, INK, MUTED, PAPER = (200, 16, 46), (34, 34, 34), (110, 110, 110), (250, 248, 246)
MARGIN = 72
FRAME_BOX = (MARGIN, 300, SIZE[0] - MARGIN, 1180)  # where the poster frame goes
QR_SIZE = 340
QR_BOX = (SIZE[0] - MARGIN - QR_SIZE, SIZE[1] - MARGIN - QR_SIZE)  # its top-left corner
# Part of the fingerprint: a change of the layout makes new images, as a new title does.
LAYOUT_VERSION = 1
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class ShareCard:
    """What a share poster shows; `collective` is empty where it must not be shown."""

    number: int
    title: str
    collective: str
    contest: str
    url: str
    call_to_action: str = "扫码观看作品"


def fingerprint(card: ShareCard, frame_sha: str) -> str:
    """A SHA-256 of everything the poster is made of: the same inputs, the same image key."""
    data = {**asdict(card), "frame": frame_sha, "layout": LAYOUT_VERSION}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def qr_image(url: str, size: int) -> Image.Image:
    """A black-on-white QR code of `url` (with its quiet zone), `size` px square."""
    qr = segno.make(url, error="m", micro=False)
    rows = list(qr.matrix_iter(scale=1, border=4))
    image = Image.new("1", (len(rows), len(rows)), 1)
    image.putdata([0 if dark else 1 for row in rows for dark in row])
    return image.resize((size, size), Image.Resampling.NEAREST).convert("RGB")


def _font(path: str, size: int) -> Font:
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        # As for the watermark: a misconfigured font path gives a poster, not a failed task.
        return ImageFont.load_default(size)


def wrap(text: str, font: Font, width: int) -> list[str]:
    """Lines of `text` no wider than `width` px, broken between any two characters (Chinese
    has no spaces to break at)."""
    lines, line = [], ""
    for char in text.strip():
        if line and font.getlength(line + char) > width:
            lines.append(line.rstrip())
            line = char.lstrip()
        else:
            line += char
    return [*lines, line] if line else lines


def _text(
    draw: ImageDraw.ImageDraw,
    top: int,
    text: str,
    font: Font,
    fill: tuple[int, int, int],
    width: int,
    most: int,
) -> int:
    """Draw up to `most` wrapped lines from `top`; returns the y below them."""
    lines = wrap(text, font, width)
    if len(lines) > most:
        lines = [*lines[: most - 1], lines[most - 1][:-1] + "…"]
    step = round(getattr(font, "size", 30) * 1.35)
    for line in lines:
        draw.text((MARGIN, top), line, font=font, fill=fill)
        top += step
    return top


def draw_share_poster(card: ShareCard, frame: Image.Image | None, font_path: str) -> Image.Image:
    """The share poster of `card`, its frame (the entry's video poster) cropped to fill its box."""
    poster = Image.new("RGB", SIZE, PAPER)
    draw = ImageDraw.Draw(poster)
    width = SIZE[0] - 2 * MARGIN
    draw.rectangle((0, 0, SIZE[0], 260), fill=RED)
    _text(draw, 70, card.contest, _font(font_path, 56), (255, 255, 255), width, 2)
    left, top, right, bottom = FRAME_BOX
    if frame is not None:
        fitted = ImageOps.fit(frame.convert("RGB"), (right - left, bottom - top))
        poster.paste(fitted, (left, top))
    else:
        draw.rectangle(FRAME_BOX, fill=(40, 40, 40))
    y = _text(draw, bottom + 50, card.title, _font(font_path, 68), INK, width, 3)
    if card.collective:
        y = _text(draw, y + 10, card.collective, _font(font_path, 44), MUTED, width, 2)
    draw.text((MARGIN, QR_BOX[1]), f"No.{card.number:04d}", font=_font(font_path, 48), fill=RED)
    cta_width = QR_BOX[0] - 2 * MARGIN
    _text(draw, QR_BOX[1] + 90, card.call_to_action, _font(font_path, 44), INK, cta_width, 3)
    poster.paste(qr_image(card.url, QR_SIZE), QR_BOX)
    return poster
