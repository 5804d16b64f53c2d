"""Recognise what a file is from its first bytes, before anything is stored.

A video container, a photo or a comic page (`original_kind`): by content, never by name.
Used by every way in (judging.accept, tus uploads, reports) and by the workers.
"""

from __future__ import annotations

# Enough for every signature below.
HEAD_BYTES = 16
# The GUID that opens every ASF (WMV, WMA) file.
ASF_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


def looks_like_video(head: bytes) -> bool:
    """Whether `head` starts like a container the pipeline accepts.

    See worker.media.probe.ALLOWED_DEMUXERS. A cheap early check for a clear message at upload
    time; the probe decides for real.
    """
    if len(head) >= 12 and head[4:8] in {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"}:
        return True  # MP4, MOV, 3GP (ISO base media)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return True  # Matroska, WebM (EBML)
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return True
    if head.startswith(b"FLV\x01"):
        return True
    if head.startswith(ASF_HEADER):
        return True  # WMV
    # MPEG-TS: a sync byte every 188 bytes; the first one is all we have here.
    return head[:1] == b"\x47" and len(head) >= 4


# ISO base media "ftyp" brands of HEIF stills (iPhone photos are "heic"; "mif1"/"msf1" are the
# generic HEIF image and image-sequence brands; "avif" is left out: not a format we accept).
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def original_kind(head: bytes) -> str | None:
    """What a photo or comic original is from its first bytes (at least HEAD_BYTES of them).

    "jpeg", "png", "webp", "heif" or "pdf"; None for anything else (SVG, GIF, TIFF, text…).
    A cheap early check before storing; the worker decodes the file for real.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "heif"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None
