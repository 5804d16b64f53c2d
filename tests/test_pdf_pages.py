"""Comic PDFs: checked before rendering, hostile ones refused, pages drawn with poppler."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

from storage.settings import Settings
from worker.media import pdf_pages
from worker.media.pdf_pages import check_pdf, poppler_missing, render_pdf
from worker.media.refusal import MediaRefused
from worker.media.subprocesses import run_bounded

SETTINGS = Settings.from_env({})


def build_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF with a correct cross-reference table; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer_extra,
        xref,
    )
    return bytes(out)


def text_pdf(pages: int, catalog_extra: bytes = b"", size: tuple[int, int] = (595, 842)) -> bytes:
    """`pages` pages sharing one content stream that writes a line of text."""
    content = b"BT /F1 48 Tf 72 700 Td (Page) Tj ET"
    kids = b" ".join(b"%d 0 R" % (5 + n) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, kids),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >> >>" % size
    ] * pages
    return build_pdf(objects)


def write(tmp_path: Path, data: bytes, name: str = "comic.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: Path, settings: Settings = SETTINGS, **kwargs: object) -> MediaRefused:
    with pytest.raises(MediaRefused) as caught:
        check_pdf(str(path), settings, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_poppler_is_installed() -> None:
    assert poppler_missing() == []


def test_a_comic_pdf_is_drawn_page_by_page(tmp_path: Path) -> None:
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    pages = [Image.new("RGB", (600, 800), colour) for colour in colours]
    path = tmp_path / "comic.pdf"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    info = check_pdf(str(path), SETTINGS)
    assert info.pages == 3
    seen: list[tuple[int, int]] = []
    out = tmp_path / "out"
    out.mkdir()
    result = render_pdf(
        str(path), str(out), SETTINGS, 5, info, on_page=lambda n, t: seen.append((n, t))
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [[o.name for o in page] for page in result][1] == [
        "002_2048.jpg",
        "002_1080.jpg",
        "002_480.jpg",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        o.name for page in result for o in page
    )  # the drawn page files are gone, only the sizes stay
    first = result[0][0]
    assert max(first.width, first.height) == 2048
    for number, colour in enumerate(colours, start=1):
        with Image.open(out / f"{number:03d}_480.jpg") as image:
            assert image.convert("RGB").getpixel((20, 20)) == pytest.approx(colour, abs=12)


def test_a_text_pdf_renders(tmp_path: Path) -> None:
    path = write(tmp_path, text_pdf(2))
    out = tmp_path / "out"
    out.mkdir()
    result = render_pdf(str(path), str(out), SETTINGS)
    assert len(result) == 2
    assert (result[0][0].width, result[0][0].height) == (1448, 2048)


def test_a_two_thousand_page_pdf_is_refused_before_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, text_pdf(2000))
    drawn: list[int] = []
    monkeypatch.setattr(pdf_pages, "render_page", lambda *a, **k: drawn.append(1))
    with pytest.raises(MediaRefused) as caught:
        render_pdf(str(path), str(tmp_path), SETTINGS)
    assert caught.value.code == "too_many_pages"
    assert "2000 页" in caught.value.reason_zh
    assert "40 页" in caught.value.reason_zh
    assert drawn == []


def test_the_page_limit_counts_what_the_entry_holds_already(tmp_path: Path) -> None:
    path = write(tmp_path, text_pdf(5))
    assert check_pdf(str(path), SETTINGS, used_pages=35).pages == 5
    result = refused(path, used_pages=36)
    assert result.code == "too_many_pages"
    assert "其他文件已占 36 页" in result.reason_zh


@pytest.mark.parametrize(
    "extra",
    [
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
        b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>",
        b"/AA << /O << /S /Launch /F (cmd.exe) >> >>",
        b"/Names << /EmbeddedFiles << /Names [] >> >>",
        b"/OpenAction 9 0 R /X << /JS 9 0 R >>",
    ],
)
def test_active_content_is_refused(tmp_path: Path, extra: bytes) -> None:
    path = write(tmp_path, text_pdf(1, catalog_extra=extra))
    result = refused(path)
    assert result.code == "pdf_active_content"
    assert "脚本" in result.reason_zh


def test_an_open_action_that_only_sets_the_view_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, text_pdf(1, catalog_extra=b"/OpenAction [5 0 R /Fit]"))
    assert check_pdf(str(path), SETTINGS).pages == 1


def test_js_bytes_inside_stream_data_are_not_taken_for_a_script(tmp_path: Path) -> None:
    # Compressed image data holds any three bytes by chance; /JS there is no dictionary.
    page = Image.new("RGB", (64, 64), (10, 20, 30))
    path = tmp_path / "img.pdf"
    page.save(path)
    data = path.read_bytes()
    marker = b"stream\n"
    at = data.index(marker) + len(marker)
    path.write_bytes(data[:at] + b"/JS " + data[at + 4 :])
    assert check_pdf(str(path), SETTINGS).pages == 1


def test_an_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    data = text_pdf(1).replace(
        b"/Root 1 0 R ",
        b"/Root 1 0 R /Encrypt << /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >> ",
    )
    path = write(tmp_path, data)
    result = refused(path)
    assert result.code == "pdf_encrypted"
    assert "密码" in result.reason_zh


def test_pdfinfo_reporting_encryption_or_a_password_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The raw scan misses an /Encrypt hidden in a cross-reference stream; pdfinfo does not.
    path = write(tmp_path, text_pdf(1))
    fake = tmp_path / "pdfinfo"
    fake.write_text("#!/bin/sh\necho 'Command Line Error: Incorrect password' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(pdf_pages, "PDFINFO", str(fake))
    assert refused(path).code == "pdf_encrypted"
    fake.write_text("#!/bin/sh\nprintf 'Pages: 1\\nEncrypted: yes (print:yes)\\n'\n")
    assert refused(path).code == "pdf_encrypted"
    fake.write_text("#!/bin/sh\nprintf 'Pages: 1\\nJavaScript: yes\\nEncrypted: no\\n'\n")
    assert refused(path).code == "pdf_active_content"


def test_a_stuck_pdfinfo_is_stopped_and_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, text_pdf(1))
    fake = tmp_path / "pdfinfo"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setattr(pdf_pages, "PDFINFO", str(fake))
    monkeypatch.setattr(pdf_pages, "INFO_TIMEOUT", 0.5)
    assert refused(path).code == "pdf_timeout"


def test_a_pdf_whose_pages_together_take_too_long_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, text_pdf(2))
    monkeypatch.setattr(pdf_pages, "PDF_TIMEOUT", 0.0)
    with pytest.raises(MediaRefused) as caught:
        render_pdf(str(path), str(tmp_path), SETTINGS)
    assert caught.value.code == "pdf_timeout"
    assert "超时" in caught.value.reason_zh


def test_a_page_too_large_to_draw_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, text_pdf(2, size=(14400, 14400)))
    result = refused(path)
    assert result.code == "too_many_pixels"
    assert "第 1 页" in result.reason_zh


def test_a_pdf_over_the_byte_limit_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, text_pdf(3))
    tight = Settings.from_env({}, pdf_max_bytes=100)
    assert refused(path, tight).code == "too_large_file"


def test_a_file_that_is_not_a_pdf_or_is_broken_is_refused(tmp_path: Path) -> None:
    assert refused(write(tmp_path, b"<html><script>1</script></html>")).code == "not_pdf"
    assert refused(write(tmp_path, b"%PDF-1.4\n garbage \n")).code in {
        "pdf_damaged",
        "pdf_empty",
    }
    truncated = text_pdf(3)
    assert refused(write(tmp_path, truncated[: len(truncated) // 3])).code in {
        "pdf_damaged",
        "pdf_empty",
    }


def test_poppler_runs_under_an_address_space_cap() -> None:
    # The cap run_bounded puts on pdfinfo and pdftoppm: an allocation past it fails.
    grab = [sys.executable, "-c", "bytearray(400 * 1024 ** 2)"]
    capped = run_bounded(grab, 30, memory_bytes=256 * 1024**2)
    assert capped.returncode != 0 and b"MemoryError" in capped.stderr
    small = [sys.executable, "-c", "bytearray(16 * 1024 ** 2)"]
    assert run_bounded(small, 30, memory_bytes=256 * 1024**2).returncode == 0
