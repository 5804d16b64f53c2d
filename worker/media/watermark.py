"""The watermark image overlaid on renditions, drawn with Pillow."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

# Fraction of the rendition's short side taken by the watermark's text height.
TEXT_SCALE = 0.045


def _font(path: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        # Without a CJK font the text would be boxes; the set-up installs one, but a
        # misconfigured path must still give a watermark rather than a failed job.
        return ImageFont.load_default(size)


def render_watermark(
    text: str,
    entry_number: int | None,
    frame_width: int,
    frame_height: int,
    font_path: str,
    opacity: float = 0.75,
) -> Image.Image:
    """A transparent RGBA image with the contest text and entry number, sized for a frame."""
    label = text if entry_number is None else f"{text}  No.{entry_number:04d}"
    size = max(12, round(min(frame_width, frame_height) * TEXT_SCALE))
    font = _font(font_path, size)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = (round(v) for v in probe.textbbox((0, 0), label, font=font))
    pad = max(2, size // 4)
    image = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    alpha = round(255 * opacity)
    # A dark outline keeps the white text readable on bright and dark footage alike.
    draw.text(
        (pad - left, pad - top),
        label,
        font=font,
        fill=(255, 255, 255, alpha),
        stroke_width=max(1, size // 12),
        stroke_fill=(0, 0, 0, round(alpha * 0.8)),
    )
    return image


def margin_for(frame_width: int, frame_height: int) -> int:
    """Distance of the watermark from the frame's edges, in pixels."""
    return max(8, round(min(frame_width, frame_height) * 0.03))
