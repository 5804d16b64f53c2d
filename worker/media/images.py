"""Photos and comic pages: check a source image, then write its watermarked JPEG sizes.

Decided by content, never by the file's name: the first bytes (storage.sniff.original_kind) and
the format Pillow reads must agree on JPEG, PNG, WebP or HEIC/HEIF. The pixel count is checked
from the header before any pixel is decoded, and Pillow's decompression-bomb guard is set to
the same limit so nothing bigger is ever decoded. What comes out is new pixels only: EXIF
orientation applied, then every piece of metadata (EXIF with its GPS and device tags, XMP,
comments) left behind; an embedded ICC profile is used to convert the pixels to sRGB and then
dropped, so the JPEGs carry none (browsers read that as sRGB).
"""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps

from judging.works import IMAGE_SIZES, image_label
from storage.settings import Settings
from storage.sniff import original_kind
from worker.media.image_checks import check_container, describe_other
from worker.media.pipeline import watermark_style
from worker.media.refusal import MediaRefused
from worker.media.watermark import WatermarkStyle, margin_for, render_watermark

pillow_heif.register_heif_opener()
# A truncated file is refused, never shown with its missing part grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False

JPEG_QUALITY = 85
HEAD = 64
# The formats Pillow may report for each kind the first bytes name (a camera's multi-picture
# JPEG opens as MPO: its first picture is the photo).
PILLOW_FORMATS = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}, "webp": {"WEBP"}, "heif": {"HEIF"}}
ACCEPTED_ZH = "请上传 JPEG、PNG、WebP 或 HEIC 格式的图片"
ACCEPTED_EN = "accepted formats are JPEG, PNG, WebP and HEIC"


@dataclass(frozen=True)
class ImageOutput:
    """One written size of a page: file name in the output folder, pixels, nominal long side."""

    name: str
    width: int
    height: int
    size: int


def process_image(
    source_path: str,
    out_dir: str,
    settings: Settings,
    entry_number: int | None = None,
    page: int = 1,
) -> list[ImageOutput]:
    """Check `source_path` and write `<page>_<size>.jpg` for every size in IMAGE_SIZES.

    Sizes larger than the source are made at the source's size (never upscaled) and still
    labelled by their nominal size, so every page has all three. Raises MediaRefused.
    """
    image = open_checked(source_path, settings)
    try:
        base = _normalised(image, max(IMAGE_SIZES))
    finally:
        image.close()
    style = watermark_style(settings)
    outputs = []
    current = base
    for size in sorted(IMAGE_SIZES, reverse=True):
        current = _fit(current, size)
        framed = current.copy()
        _watermark(framed, style, entry_number)
        name = f"{image_label(page, size)}.jpg"
        framed.save(
            os.path.join(out_dir, name),
            "JPEG",
            quality=JPEG_QUALITY,
            progressive=True,
            optimize=True,
        )
        outputs.append(ImageOutput(name, framed.width, framed.height, size))
    return outputs


def open_checked(path: str, settings: Settings) -> Image.Image:
    """The source opened lazily (header read, no pixels decoded), after every check."""
    size = os.path.getsize(path)
    if size > settings.image_max_bytes:
        raise MediaRefused(
            "too_large_file",
            f"图片文件大小 {size / 1024**2:.1f} MB，超过上限 "
            f"{settings.image_max_bytes / 1024**2:.0f} MB，请压缩后重新上传",
            f"image of {size} bytes exceeds {settings.image_max_bytes}",
        )
    with open(path, "rb") as fh:
        head = fh.read(HEAD)
    kind = original_kind(head)
    if kind is None or kind == "pdf":
        other = describe_other(head)
        raise MediaRefused(
            "not_image",
            f"{other.zh}不是可接受的图片格式，{ACCEPTED_ZH}",
            f"{other.en} is not an accepted image; {ACCEPTED_EN}",
        )
    check_container(path, kind, size)
    image = _open(path, settings.image_max_pixels)
    if image.format not in PILLOW_FORMATS[kind]:
        image.close()
        raise MediaRefused(
            "not_image",
            f"文件内容与图片格式不符，{ACCEPTED_ZH}",
            f"content read as {image.format}, not {kind}",
        )
    _check_pixels(image.width, image.height, settings.image_max_pixels, image)
    if kind in {"png", "webp"} and getattr(image, "is_animated", False):
        # A photo is a still: the gallery would show one frame of an animation its author
        # did not choose, so animated PNG/WebP are refused (a HEIF's primary image is used).
        image.close()
        raise MediaRefused(
            "animated",
            f"不接受动图，请上传静态照片（{ACCEPTED_ZH}）",
            "animated images are not accepted",
        )
    return image


def _open(path: str, max_pixels: int) -> Image.Image:
    # Pillow's guard fails inside Image.open, before a pixel is decoded, past twice
    # MAX_IMAGE_PIXELS (and only warns between once and twice: _check_pixels refuses those
    # right after, from the header, still before decoding). Only the open is checked, so
    # the guard is put back after it for the rest of the process (posters, watermarks).
    previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    except Image.DecompressionBombError as exc:
        width, height = _header_size(path, str(exc))
        _check_pixels(width, height, max_pixels)
        raise  # pragma: no cover - _check_pixels raised
    except (OSError, SyntaxError, ValueError) as exc:
        raise _damaged(exc) from exc
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _header_size(path: str, message: str) -> tuple[int, int]:
    """A bomb's dimensions for its refusal: a PNG's from its header, else the pixel count."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head.startswith(b"\x89PNG") and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    found = re.search(r"\((\d+) pixels\)", message)
    return (int(found.group(1)) if found else 0), 1


def _check_pixels(width: int, height: int, limit: int, image: Image.Image | None = None) -> None:
    if width * height <= limit:
        return
    if image is not None:
        image.close()
    shown = f"{width} × {height}" if height > 1 else "过大"
    raise MediaRefused(
        "too_many_pixels",
        f"图片尺寸 {shown}（{_megapixels(width * height)}）超过上限 {_megapixels(limit)}，"
        "请缩小后重新上传",
        f"{width} x {height} = {width * height} pixels exceed the limit of {limit}",
    )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} 百万像素" if pixels >= 10**7 else f"{pixels / 1e6:.1f} 百万像素"


def _damaged(exc: Exception) -> MediaRefused:
    return MediaRefused(
        "damaged_image",
        "图片文件已损坏或不完整，请用手机相册或看图软件重新导出后上传",
        f"the image cannot be decoded: {exc}",
    )


def _normalised(image: Image.Image, long_side: int) -> Image.Image:
    """Decoded, at most a little over `long_side`, upright, sRGB RGB, with no metadata."""
    try:
        if image.format in {"JPEG", "MPO"}:
            # The decoder scales by 1/2, 1/4 or 1/8 while decoding: a 100 MP photo needs a
            # fraction of its full size in memory.
            ratio = long_side / max(image.size)
            image.draft("RGB", (round(image.width * ratio), round(image.height * ratio)))
        image.load()
        image = _reduced(image, long_side)
        profile = image.info.get("icc_profile")
        image = _rgb(image)
        if profile:
            image = _to_srgb(image, profile)
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _damaged(exc) from exc
    image.info = {}
    return image


def _reduced(image: Image.Image, long_side: int) -> Image.Image:
    """Shrunk by a whole factor (a cheap box filter) while still at least `long_side`."""
    factor = max(image.size) // long_side
    if factor < 2:
        return image
    if image.mode.startswith("I;16"):
        image = image.convert("I")  # reduced in 32 bits, scaled to 8 once small
    elif image.mode not in {"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F"}:
        image = _rgb(image)
    info = image.info
    reduced = image.reduce(factor)
    reduced.info = info
    return reduced


def _rgb(image: Image.Image) -> Image.Image:
    """RGB with transparency flattened onto white; 16-bit greys scaled, not clipped."""
    if image.mode in {"I;16", "I;16B", "I;16L", "I;16N", "I"}:
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in {"RGBA", "LA", "PA", "La", "RGBa"}:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        flat.info = image.info
        return flat
    if image.mode != "RGB":
        converted = image.convert("RGB")
        converted.info = image.info
        return converted
    return image


def _to_srgb(image: Image.Image, profile: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        if source.profile.xcolor_space.strip() != "RGB":
            # A CMYK or grey profile does not describe the RGB pixels we now hold.
            return image
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the pixels are shown as they are
    assert converted is not None  # noqa: S101 - profileToProfile returns when not in place
    converted.info = image.info
    return converted


def _fit(image: Image.Image, long_side: int) -> Image.Image:
    """`image` with its long side at most `long_side` (never enlarged)."""
    if max(image.size) <= long_side:
        return image
    ratio = long_side / max(image.size)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _watermark(image: Image.Image, style: WatermarkStyle, entry_number: int | None) -> None:
    """The videos' watermark, in its corner, shrunk to fit a narrow picture."""
    mark = render_watermark(style, entry_number, image.width, image.height)
    margin = margin_for(image.width, image.height)
    if mark.width + 2 * margin > image.width or mark.height + 2 * margin > image.height:
        scale = min(
            (image.width - 2 * margin) / mark.width, (image.height - 2 * margin) / mark.height
        )
        if scale <= 0:
            return  # a sliver of a picture: no room for a mark
        mark = mark.resize(
            (max(1, int(mark.width * scale)), max(1, int(mark.height * scale))),
            Image.Resampling.LANCZOS,
        )
    vertical, horizontal = style.position.split("-")
    x = margin if horizontal == "left" else image.width - mark.width - margin
    y = margin if vertical == "top" else image.height - mark.height - margin
    image.paste(mark, (x, y), mark)
