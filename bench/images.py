"""Benchmark photos and comic pages: time and peak memory of the largest files settings allow.

Prints, for files made here with Pillow:
1. a JPEG and a PNG of IMAGE_MAX_PIXELS (100 MP by default): process_image's time and peak;
2. a 12 MP HEIC, as an iPhone writes it;
3. a PNG whose header claims 30000 × 30000 (a decompression bomb): the time to refuse it;
4. a PDF of COMIC_MAX_PAGES A4 pages drawn at 300 dpi: check and render, page by page.

Each case runs in a process of its own, so its peak is its own: the kernel's high-water mark
of that process (VmHWM), and of the largest child it waited for (pdftoppm, pdfinfo), added
together as the whole tree's peak (the children run one at a time). Run by hand:
`.venv/bin/python bench/images.py`; no services are needed.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

if __package__ in (None, ""):
    # Run as `python bench/images.py`, bench/judging.py would shadow the `judging` package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import pillow_heif  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from storage.settings import Settings  # noqa: E402

MIB = 1024**2
ROOT = Path(__file__).resolve().parent.parent

# One case in a fresh interpreter: its figures as JSON on the last line.
CASE = """
import json, os, resource, sys, tempfile, time
from storage.settings import Settings
from worker.media.ffmpeg_run import memory_of
from worker.media.refusal import MediaRefused
from worker.media.pdf_pages import render_pdf
from worker.media.images import process_image
kind, source, work = sys.argv[1:4]
settings = Settings.from_env()
out = tempfile.mkdtemp(dir=work)
started = time.perf_counter()
outcome = "made"
try:
    if kind == "pdf":
        pages = render_pdf(source, out, settings, 1)
        outcome = f"{len(pages)} pages"
    else:
        sizes = process_image(source, out, settings, 1)
        outcome = " ".join(f"{o.width}x{o.height}" for o in sizes)
except MediaRefused as refused:
    outcome = "refused: " + refused.reason_zh
seconds = time.perf_counter() - started
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({
    "seconds": seconds, "self_peak": memory_of(os.getpid())[1], "child_peak": children,
    "outcome": outcome,
}, ensure_ascii=False))
"""


def photo(width: int, height: int) -> Image.Image:
    """A picture with gradients and shapes, so it compresses like a photo, not like a flat."""
    horizontal = Image.linear_gradient("L").resize((width, height))
    vertical = horizontal.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    image = Image.merge(
        "RGB", (horizontal, vertical, Image.radial_gradient("L").resize((width, height)))
    )
    draw = ImageDraw.Draw(image)
    for n in range(40):
        x, y = (n * 7919) % width, (n * 104729) % height
        draw.ellipse((x, y, x + width // 12, y + height // 12), outline=(255, 255, 255), width=9)
    return image


def bomb_png(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def comic_pdf(path: Path, pages: int) -> None:
    """A4 pages at 300 dpi, each a JPEG image, as a scanner or a drawing app exports them."""
    page = photo(2480, 3508)
    frames = []
    for number in range(pages):
        frame = page.copy()
        ImageDraw.Draw(frame).text((200, 200), f"{number + 1}", fill=(0, 0, 0), font_size=300)
        data = io.BytesIO()
        frame.save(data, "JPEG", quality=85)
        frames.append(Image.open(io.BytesIO(data.getvalue())))
    frames[0].save(path, "PDF", save_all=True, append_images=frames[1:], resolution=300)


def run_case(name: str, kind: str, source: Path, work: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", CASE, kind, str(source), str(work)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    self_mib, child_mib = figures["self_peak"] / MIB, figures["child_peak"] / MIB
    print(f"{name}: {source.stat().st_size / 1e6:.1f} MB")
    print(f"  outcome:        {figures['outcome']}")
    print(f"  time:           {figures['seconds']:8.2f} s")
    print(f"  Python's peak:  {self_mib:8.0f} MiB (the interpreter and Pillow included)")
    print(f"  largest child:  {child_mib:8.0f} MiB (pdfinfo/pdftoppm; 0 for a photo)")
    print(f"  tree at most:   {self_mib + child_mib:8.0f} MiB")


def main() -> None:
    settings = Settings.from_env()
    pixels = settings.image_max_pixels
    width = int((pixels * 3 / 2) ** 0.5)
    height = pixels // width
    print(
        f"{os.cpu_count()} cores; IMAGE_MAX_PIXELS {pixels}, COMIC_MAX_PAGES "
        f"{settings.comic_max_pages}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        big = photo(width, height)
        big.save(work / "big.jpg", "JPEG", quality=90)
        big.save(work / "big.png", "PNG", compress_level=1)
        del big
        pillow_heif.from_pillow(photo(4032, 3024)).save(work / "phone.heic", quality=80)
        bomb_png(work / "bomb.png", 30000, 30000)
        comic_pdf(work / "comic.pdf", settings.comic_max_pages)
        print(f"(sources made in {time.perf_counter() - started:.0f} s)")
        run_case(f"JPEG {width}x{height}", "image", work / "big.jpg", work)
        run_case(f"PNG {width}x{height}", "image", work / "big.png", work)
        run_case("HEIC 4032x3024", "image", work / "phone.heic", work)
        run_case("PNG bomb 30000x30000 header", "image", work / "bomb.png", work)
        run_case(
            f"PDF of {settings.comic_max_pages} A4 pages at 300 dpi",
            "pdf",
            work / "comic.pdf",
            work,
        )


if __name__ == "__main__":
    main()
