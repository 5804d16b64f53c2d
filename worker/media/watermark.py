"""The watermark image overlaid on renditions, drawn with Pillow."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

# Fraction of the rendition's short side taken by the watermark's text height.
TEXT_SCALE = 0.045
POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right")


@dataclass(frozen=True)
class WatermarkStyle:
    text: str
    font_path: str
    logo_path: str = ""
    position: str = "bottom-right"
    opacity: float = 0.75

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise ValueError(f"watermark position {self.position!r} is not one of {POSITIONS}")
        if not 0 < self.opacity <= 1:
            raise ValueError(f"watermark opacity {self.opacity} is not in (0, 1]")


def _font(path: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        # Without a CJK font the text would be boxes; the set-up installs one, but a
        # misconfigured path must still give a watermark rather than a failed job.
        return ImageFont.load_default(size)


def _logo(path: str, height: int, alpha: float) -> Image.Image | None:
    if not path:
        return None
    with Image.open(path) as img:
        logo = img.convert("RGBA")
    logo = logo.resize(
        (max(1, round(logo.width * height / logo.height)), height), Image.Resampling.LANCZOS
    )
    faded = logo.getchannel("A").point(lambda a: round(a * alpha))
    logo.putalpha(faded)
    return logo


def render_watermark(
    style: WatermarkStyle, entry_number: int | None, frame_width: int, frame_height: int
) -> Image.Image:
    """A transparent RGBA image with the logo, contest text and entry number for a frame."""
    label = style.text if entry_number is None else f"{style.text}  No.{entry_number:04d}"
    size = max(12, round(min(frame_width, frame_height) * TEXT_SCALE))
    font = _font(style.font_path, size)
    measure = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = (round(v) for v in measure.textbbox((0, 0), label, font=font))
    pad = max(2, size // 4)
    text_w, text_h = right - left, bottom - top
    logo = _logo(style.logo_path, round(text_h * 1.6), style.opacity)
    logo_w = logo.width + pad if logo else 0
    height = max(text_h, logo.height if logo else 0) + 2 * pad
    image = Image.new("RGBA", (logo_w + text_w + 2 * pad, height), (0, 0, 0, 0))
    if logo:
        image.alpha_composite(logo, (pad, (height - logo.height) // 2))
    draw = ImageDraw.Draw(image)
    alpha = round(255 * style.opacity)
    # A dark outline keeps the white text readable on bright and dark footage alike.
    draw.text(
        (pad + logo_w - left, (height - text_h) // 2 - top),
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


def overlay_position(position: str, margin: int) -> tuple[str, str]:
    """ffmpeg overlay x and y expressions that put the watermark in a corner."""
    vertical, horizontal = position.split("-")
    x = f"{margin}" if horizontal == "left" else f"W-w-{margin}"
    y = f"{margin}" if vertical == "top" else f"H-h-{margin}"
    return x, y
