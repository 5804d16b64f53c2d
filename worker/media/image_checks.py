"""Checks of an image file's structure made before it is decoded: what else it might be.

A polyglot is a file that is a valid image and also something else (a ZIP, an HTML page with
a script) because the other thing sits after the image's last byte, where decoders stop
reading. Walking the container to its real end (JPEG's EOI marker, PNG's IEND chunk, WebP's
RIFF length, HEIF's top-level boxes) tells how much follows; see TRAILING_LIMIT.
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass

from worker.media.refusal import MediaRefused

# Bytes tolerated after the image's end. Real photos carry a little: padding zeros, a
# newline some upload tools add, Samsung's "SEFT" trailer of a few hundred bytes. Anything
# bigger is another file riding along (a ZIP or a page ends up kilobytes long). A small
# trailer is still refused when it holds the start of a ZIP, a page, a script or a PDF.
TRAILING_LIMIT = 4096
HOSTILE = re.compile(
    rb"PK\x03\x04|PK\x05\x06|<script|<html|<!doctype|<\?php|<svg|%PDF-|#!/", re.IGNORECASE
)
# After the photo, a Google or Samsung "motion photo" stores its short MP4 (an ISO box whose
# type is "ftyp"): a phone's own file, allowed whatever its size. Only JPEGs carry these.
MOTION_PHOTO = b"ftyp"
# In a JPEG's compressed data a 0xFF is followed by 0x00 (a stuffed byte) or a restart
# marker; anything else is the next marker.
JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
STANDALONE = {0x01, *range(0xD0, 0xD8)}


@dataclass(frozen=True)
class Named:
    zh: str
    en: str


def describe_other(head: bytes) -> Named:
    """What a file that is not an accepted image looks like, for the refusal's sentence."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg")) or b"<svg" in text:
        return Named("SVG/XML 文件", "an SVG/XML file")
    if text.startswith((b"<!doctype", b"<html", b"<")):
        return Named("HTML 网页文件", "an HTML file")
    signatures = {
        (b"GIF87a", b"GIF89a"): "GIF",
        (b"II*\x00", b"MM\x00*"): "TIFF",
        (b"BM",): "BMP",
        (b"%PDF-",): "PDF",
    }
    for starts, name in signatures.items():
        if head.startswith(starts):
            return Named(f"{name} 文件", f"a {name} file")
    return Named("这个文件", "the file")


def check_container(path: str, kind: str, size: int) -> None:
    """Refuse a truncated image or one with another file after its end (a polyglot)."""
    if size == 0:
        raise _truncated("empty file")
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        end = {"jpeg": _jpeg_end, "png": _png_end, "webp": _webp_end, "heif": _heif_end}[kind](data)
        if end is None or end > size:
            raise _truncated(f"{kind} ends past the file's {size} bytes")
        trailer = data[end : end + TRAILING_LIMIT + 1]
    if not trailer:
        return
    if kind == "jpeg" and trailer[4:8] == MOTION_PHOTO:
        return
    if len(trailer) > TRAILING_LIMIT or HOSTILE.search(trailer):
        raise MediaRefused(
            "polyglot",
            f"图片文件末尾附带了 {size - end} 字节的其他数据，"
            "请用手机相册或看图软件重新导出为普通图片后上传",
            f"{size - end} bytes of other data follow the {kind} image",
        )


def _truncated(detail: str) -> MediaRefused:
    return MediaRefused(
        "damaged_image",
        "图片文件不完整（可能未传完或已损坏），请重新导出后上传",
        f"the image is truncated: {detail}",
    )


def _jpeg_end(data: mmap.mmap) -> int | None:
    """The offset just past the EOI marker that ends the JPEG's main image, or None."""
    pos, size = 2, len(data)
    while pos + 1 < size:
        if data[pos] != 0xFF:
            # Stray bytes between segments (libjpeg skips them with a warning): go on at the
            # next marker, as decoders do.
            pos = data.find(b"\xff", pos)
            if pos < 0:
                return None
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if marker in STANDALONE:
            pos += 2
            continue
        if pos + 4 > size:
            return None
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xDA:  # start of scan: compressed data runs to the next marker
            found = JPEG_MARKER.search(data, pos)
            if found is None:
                return None
            pos = found.start()
    return None


def _png_end(data: mmap.mmap) -> int | None:
    pos, size = 8, len(data)
    while pos + 8 <= size:
        length: int
        kind: bytes
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        pos += 12 + length
        if kind == b"IEND":
            return pos
    return None


def _webp_end(data: mmap.mmap) -> int | None:
    if len(data) < 12:
        return None
    length: int = struct.unpack("<I", data[4:8])[0]
    return 8 + length + (length & 1)


def _heif_end(data: mmap.mmap) -> int | None:
    """The end of the last top-level ISO box; what follows that is no box is a trailer."""
    pos, size = 0, len(data)
    while pos + 8 <= size:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if not all(0x20 <= char < 0x7F for char in kind):
            return pos
        if length == 1:
            if pos + 16 > size:
                return None
            length = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif length == 0:
            return size
        if length < 8:
            return pos
        pos += length
    return pos if pos <= size else None
