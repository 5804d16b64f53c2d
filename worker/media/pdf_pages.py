"""A comic's PDF, checked and rasterised page by page with Debian's poppler-utils.

`check_pdf` decides in seconds, before a page is drawn: size in bytes, active content,
encryption, the page count and the page sizes. `render_pdf` then draws one page at a time
with `pdftoppm` (under a time and a memory limit) and hands each to images.process_image, so
a page is checked, watermarked and sized like any photo.
"""

from __future__ import annotations

import mmap
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from storage.settings import Settings
from worker.media.images import ImageOutput, process_image
from worker.media.refusal import MediaRefused
from worker.media.subprocesses import SubprocessTimeout, run_bounded

PDFINFO = "pdfinfo"
PDFTOPPM = "pdftoppm"
# Resolution pages are measured at for the pixel limit; the render itself is scaled to the
# largest image size (-scale-to), so it never holds more than 2048 × 2048 pixels.
RENDER_DPI = 150
RENDER_LONG_SIDE = 2048
INFO_TIMEOUT = 30.0
PAGE_TIMEOUT = 60.0
# All pages of one PDF together: a file of pages each built to take just under a page's
# limit is stopped here, well inside the broker's consumer timeout.
PDF_TIMEOUT = 900.0
# Address space of one poppler process: a page of 2048 px needs a few tens of MiB; a page
# built to exhaust memory (huge images, deep patterns) fails here instead of the worker.
POPPLER_MEMORY = 1024**3
POINTS_PER_INCH = 72


def _name(word: str) -> bytes:
    """A regex for the PDF name /word, also spelt with #xx escapes (/J#61vaScript)."""
    parts = [f"(?:{re.escape(ch)}|#(?i:{ord(ch):02x}))" for ch in word]
    return ("/" + "".join(parts) + r"(?![A-Za-z0-9#])").encode()


# Active content, found in the raw bytes. pdftoppm never runs a script, but the original is
# kept and may be downloaded by the office and judges and opened in a reader that does.
# The raw scan sees plain dictionaries; a dictionary hidden in a compressed object stream
# is not visible to it, which is why pdfinfo's own answer (it parses every object, incl.
# object streams) is checked as well. /OpenAction alone is common and harmless (it sets the
# first view); it can only run a script through /JavaScript or /JS, which are refused, or
# launch a program through /Launch. Long names are looked for everywhere; "/JS" is three
# bytes that compressed image data holds by chance every few MB, so it is looked for outside
# stream data only (a dictionary hidden inside a stream is pdfinfo's to find).
ACTIVE = re.compile(
    b"|".join(
        _name(word)
        for word in ("JavaScript", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia")
    )
)
SHORT_ACTIVE = re.compile(_name("JS"))
STREAM_DATA = re.compile(rb"(?<!end)stream\r?\n")
ENCRYPT = re.compile(_name("Encrypt"))
PAGE_SIZE = re.compile(r"^Page\s+(\d+)\s+size:\s+([\d.]+)\s+x\s+([\d.]+)", re.MULTILINE)


@dataclass(frozen=True)
class PdfInfo:
    pages: int
    sizes: list[tuple[float, float]]  # each page's width and height in points


def poppler_missing() -> list[str]:
    """The poppler-utils programs not installed here (scripts/setup.sh installs them)."""
    return [tool for tool in (PDFINFO, PDFTOPPM) if shutil.which(tool) is None]


def check_pdf(path: str, settings: Settings, used_pages: int = 0) -> PdfInfo:
    """Everything refused about a PDF before rendering.

    `used_pages`: pages the comic holds besides this PDF; together they keep COMIC_MAX_PAGES.
    """
    limit = settings.comic_max_pages
    size = os.path.getsize(path)
    if size > settings.pdf_max_bytes:
        raise _refused(
            "too_large_file",
            f"PDF 文件大小 {size / 1024**2:.1f} MB，超过上限 "
            f"{settings.pdf_max_bytes / 1024**2:.0f} MB，请压缩后重新上传",
            f"PDF of {size} bytes exceeds {settings.pdf_max_bytes}",
        )
    _scan_bytes(path, size)
    fields = _pdfinfo(path, [])
    if fields.get("encrypted", "no").startswith("yes"):
        raise _encrypted("pdfinfo reports encryption")
    if fields.get("javascript", "no") != "no":
        raise _active("pdfinfo reports JavaScript")
    pages = int(fields.get("pages", "0") or 0)
    if pages < 1:
        raise _refused("pdf_empty", "PDF 文件中没有页面", "the PDF has no pages")
    if pages + used_pages > limit:
        others = f"（其他文件已占 {used_pages} 页）" if used_pages else ""
        raise _refused(
            "too_many_pages",
            f"PDF 共 {pages} 页，超过漫画页数上限 {limit} 页{others}，请删减后重新上传",
            f"the PDF has {pages} pages; with {used_pages} others that is more than {limit}",
        )
    sizes = _page_sizes(path, pages)
    for number, (width, height) in enumerate(sizes, start=1):
        pixels = _pixels_at_dpi(width) * _pixels_at_dpi(height)
        if pixels > settings.image_max_pixels:
            raise _refused(
                "too_many_pixels",
                f"PDF 第 {number} 页尺寸过大（{width:.0f} × {height:.0f} 点），"
                "请按常见纸张尺寸重新导出",
                f"page {number} of {width} x {height} pt is {pixels} pixels at {RENDER_DPI} dpi",
            )
    return PdfInfo(pages, sizes)


def render_pdf(
    path: str,
    out_dir: str,
    settings: Settings,
    entry_number: int | None = None,
    info: PdfInfo | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> list[list[ImageOutput]]:
    """Every page's image sizes (page n labelled n), drawn one page at a time."""
    info = info or check_pdf(path, settings)
    deadline = time.monotonic() + PDF_TIMEOUT
    pages = []
    for number in range(1, info.pages + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            raise _timeout(f"{info.pages} pages", PDF_TIMEOUT)
        timeout = min(PAGE_TIMEOUT, left)
        pages.append(render_page(path, out_dir, settings, number, entry_number, timeout))
        if on_page is not None:
            on_page(number, info.pages)
    return pages


def render_page(
    path: str,
    out_dir: str,
    settings: Settings,
    number: int,
    entry_number: int | None,
    timeout: float = PAGE_TIMEOUT,
) -> list[ImageOutput]:
    """Draw page `number` with pdftoppm and make its image sizes."""
    prefix = os.path.join(out_dir, f"pdf-page-{number}")
    args = [
        PDFTOPPM,
        *("-f", str(number), "-l", str(number)),
        *("-r", str(RENDER_DPI), "-scale-to", str(RENDER_LONG_SIDE)),
        *("-jpeg", "-jpegopt", "quality=95", "-singlefile"),
        path,
        prefix,
    ]
    result = _run(args, timeout, f"page {number}")
    drawn = f"{prefix}.jpg"
    if result.returncode != 0 or not os.path.exists(drawn):
        raise _refused(
            "pdf_damaged",
            f"PDF 第 {number} 页无法显示，文件可能已损坏，请重新导出后上传",
            f"pdftoppm page {number}: {result.stderr.decode(errors='replace')[-300:]}",
        )
    try:
        return process_image(drawn, out_dir, settings, entry_number, page=number)
    finally:
        os.remove(drawn)


def _scan_bytes(path: str, size: int) -> None:
    if size == 0:
        raise _damaged("empty file")
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if not data[:1024].lstrip().startswith(b"%PDF-"):
            raise _refused(
                "not_pdf", "文件不是 PDF，请上传 PDF 或图片", "the file does not start as a PDF"
            )
        if ENCRYPT.search(data):
            raise _encrypted("/Encrypt in the file")
        found = ACTIVE.search(data)
        if found is None:
            found = next(filter(None, map(SHORT_ACTIVE.search, _outside_streams(data))), None)
        if found is not None:
            raise _active(f"{found.group().decode(errors='replace')} in the file")


def _outside_streams(data: mmap.mmap) -> Iterator[bytes]:
    """The file's bytes between its streams' data: dictionaries, the xref, the trailer."""
    pos = 0
    for start in STREAM_DATA.finditer(data):
        if start.start() < pos:
            continue
        yield data[pos : start.start()]
        end = data.find(b"endstream", start.end())
        if end < 0:
            return
        pos = end + len(b"endstream")
    yield data[pos:]


def _pdfinfo(path: str, extra: list[str]) -> dict[str, str]:
    result = _run([PDFINFO, *extra, path], INFO_TIMEOUT, "pdfinfo")
    output = result.stdout.decode("utf-8", errors="replace")
    if result.returncode != 0:
        errors = result.stderr.decode("utf-8", errors="replace")
        if "password" in errors.lower():
            raise _encrypted(errors.strip()[-200:])
        raise _damaged(errors.strip()[-300:])
    fields = {}
    for line in output.splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("Page "):
            fields[key.strip().lower()] = value.strip().lower()
    return fields


def _page_sizes(path: str, pages: int) -> list[tuple[float, float]]:
    result = _run([PDFINFO, "-f", "1", "-l", str(pages), path], INFO_TIMEOUT, "pdfinfo")
    found = PAGE_SIZE.findall(result.stdout.decode("utf-8", errors="replace"))
    return [(float(width), float(height)) for _number, width, height in found]


def _pixels_at_dpi(points: float) -> int:
    return round(points / POINTS_PER_INCH * RENDER_DPI)


def _run(args: list[str], timeout: float, what: str):  # type: ignore[no-untyped-def]
    try:
        return run_bounded(args, timeout, memory_bytes=POPPLER_MEMORY)
    except SubprocessTimeout as exc:
        raise _timeout(what, timeout) from exc


def _timeout(what: str, seconds: float) -> MediaRefused:
    return _refused(
        "pdf_timeout",
        "PDF 处理超时，文件可能过于复杂或已损坏，请重新导出（如导出为图片）后上传",
        f"{what} took longer than {seconds:.0f} s",
    )


def _refused(code: str, zh: str, en: str) -> MediaRefused:
    return MediaRefused(code, zh, en)


def _encrypted(detail: str) -> MediaRefused:
    return _refused(
        "pdf_encrypted",
        "PDF 文件已加密或设有密码，请去除密码后重新导出上传",
        f"the PDF is encrypted ({detail})",
    )


def _active(detail: str) -> MediaRefused:
    return _refused(
        "pdf_active_content",
        "PDF 文件中含有脚本、附件或启动程序等动作，不能接受；请用“打印为 PDF”或导出为图片后上传",
        f"the PDF carries active content ({detail})",
    )


def _damaged(detail: str) -> MediaRefused:
    return _refused(
        "pdf_damaged",
        "PDF 文件已损坏或无法读取，请重新导出后上传",
        f"pdfinfo failed: {detail}",
    )
