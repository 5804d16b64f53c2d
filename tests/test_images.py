"""Photos and comic pages: what process_image accepts, refuses and writes (no services)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, ImageChops

from judging.works import IMAGE_SIZES
from storage.settings import Settings
from storage.sniff import original_kind
from worker.media.image_checks import TRAILING_LIMIT
from worker.media.images import process_image
from worker.media.refusal import MediaRefused

SETTINGS = Settings.from_env({})


def photo(size: tuple[int, int] = (1600, 1200), mode: str = "RGB") -> Image.Image:
    """A picture with structure: a gradient, so resizing and rotating show."""
    image = Image.linear_gradient("L").resize(size)
    if mode == "RGB":
        other = image.transpose(Image.Transpose.ROTATE_90).resize(size)
        return Image.merge("RGB", (image, other, Image.new("L", size, 90)))
    return image.convert(mode)


def write(tmp_path: Path, name: str, image: Image.Image, fmt: str, **kwargs: object) -> Path:
    path = tmp_path / name
    image.save(path, fmt, **kwargs)
    return path


def run(path: Path, tmp_path: Path, settings: Settings = SETTINGS, **kwargs: object) -> list:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return process_image(str(path), str(out), settings, **kwargs)  # type: ignore[arg-type]


def refusal(path: Path, tmp_path: Path, settings: Settings = SETTINGS) -> MediaRefused:
    with pytest.raises(MediaRefused) as caught:
        run(path, tmp_path, settings)
    return caught.value


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` × `height` with a few bytes of pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def test_a_photo_is_written_at_every_size_with_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "p.jpg", photo((3000, 2000)), "JPEG")
    outputs = run(path, tmp_path, page=3)
    assert [o.name for o in outputs] == ["003_2048.jpg", "003_1080.jpg", "003_480.jpg"]
    assert [(o.width, o.height, o.size) for o in outputs] == [
        (2048, 1365, 2048),
        (1080, 720, 1080),
        (480, 320, 480),
    ]
    for output in outputs:
        with Image.open(tmp_path / "out" / output.name) as image:
            assert image.format == "JPEG"
            assert image.mode == "RGB"
            assert image.size == (output.width, output.height)
            assert image.info.get("progressive")
            assert "icc_profile" not in image.info


def test_a_small_photo_is_never_enlarged_but_has_every_size(tmp_path: Path) -> None:
    path = write(tmp_path, "p.png", photo((800, 600)), "PNG")
    outputs = run(path, tmp_path)
    assert {o.size for o in outputs} == set(IMAGE_SIZES)
    assert [(o.width, o.height) for o in outputs] == [(800, 600), (800, 600), (480, 360)]


@pytest.mark.parametrize(
    ("fmt", "kind"), [("PNG", "png"), ("WEBP", "webp"), ("JPEG", "jpeg"), ("HEIF", "heif")]
)
def test_every_accepted_format_is_recognised_by_content_whatever_its_name(
    tmp_path: Path, fmt: str, kind: str
) -> None:
    image = photo((640, 480))
    if fmt == "HEIF":
        pillow_heif.from_pillow(image).save(tmp_path / "x.bin", quality=80)
        path = tmp_path / "x.bin"
    else:
        path = write(tmp_path, "x.jpg" if fmt == "PNG" else "x.bin", image, fmt)
    assert original_kind(path.read_bytes()[:16]) == kind
    outputs = run(path, tmp_path)
    assert outputs[0].width == 640


def test_a_png_named_jpg_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "really-a-png.jpg", photo((500, 400)), "PNG")
    assert run(path, tmp_path)[0].width == 500


def test_text_named_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("这不是图片 just some text\n" * 20, encoding="utf-8")
    refused = refusal(path, tmp_path)
    assert refused.code == "not_image"
    assert "JPEG、PNG、WebP 或 HEIC" in refused.reason_zh


def test_an_svg_is_refused_as_svg(tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    path.write_bytes(
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<script>alert(1)</script></svg>"
    )
    refused = refusal(path, tmp_path)
    assert refused.code == "not_image"
    assert "SVG" in refused.reason_zh


@pytest.mark.parametrize(("fmt", "name"), [("GIF", "GIF"), ("TIFF", "TIFF"), ("BMP", "BMP")])
def test_other_image_formats_are_refused_naming_the_accepted_ones(
    tmp_path: Path, fmt: str, name: str
) -> None:
    path = write(tmp_path, "x.jpg", photo((64, 64)), fmt)
    refused = refusal(path, tmp_path)
    assert refused.code == "not_image"
    assert name in refused.reason_zh
    assert "HEIC" in refused.reason_zh


def test_a_pdf_is_not_a_photo(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jpg", photo((64, 64)), "PDF")
    assert "PDF" in refusal(path, tmp_path).reason_zh


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>" * 400)
        archive.writestr("noise.bin", bytes(range(256)) * 40)
    return buffer.getvalue()


def test_a_jpeg_zip_polyglot_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "p.jpg", photo((300, 200)), "JPEG")
    path.write_bytes(path.read_bytes() + zip_bytes())
    refused = refusal(path, tmp_path)
    assert refused.code == "polyglot"
    assert "其他数据" in refused.reason_zh


def test_a_png_with_a_page_after_iend_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "p.png", photo((300, 200)), "PNG")
    path.write_bytes(path.read_bytes() + b"<html><script>alert(1)</script></html>")
    assert refusal(path, tmp_path).code == "polyglot"


def test_a_long_tail_of_anything_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "p.webp", photo((300, 200)), "WEBP")
    path.write_bytes(path.read_bytes() + b"\x01" * (TRAILING_LIMIT + 1))
    assert refusal(path, tmp_path).code == "polyglot"


def test_a_little_padding_after_the_image_is_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, "p.jpg", photo((300, 200)), "JPEG")
    path.write_bytes(path.read_bytes() + b"\x00" * 200)
    assert run(path, tmp_path)[0].width == 300


def test_a_progressive_jpeg_with_a_thumbnail_is_not_taken_for_a_polyglot(
    tmp_path: Path,
) -> None:
    # The EXIF thumbnail holds an EOI marker of its own, and a progressive file many scans.
    thumb = io.BytesIO()
    photo((160, 120)).save(thumb, "JPEG")
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    source = photo((1200, 900))
    raw = exif.tobytes()
    path = write(tmp_path, "p.jpg", source, "JPEG", progressive=True, exif=raw)
    # Put a thumbnail-like JPEG inside an APP segment too.
    data = path.read_bytes()
    app = b"\xff\xe2" + struct.pack(">H", len(thumb.getvalue()) + 2) + thumb.getvalue()
    path.write_bytes(data[:2] + app + data[2:])
    assert run(path, tmp_path)[0].width == 1200


def test_stray_bytes_between_jpeg_segments_are_tolerated_as_decoders_do(tmp_path: Path) -> None:
    path = write(tmp_path, "p.jpg", photo((300, 200)), "JPEG")
    data = path.read_bytes()
    app0_end = 4 + struct.unpack(">H", data[4:6])[0]
    path.write_bytes(data[:app0_end] + b"\x00\x00" + data[app0_end:])
    assert run(path, tmp_path)[0].width == 300


def test_a_huge_dimension_png_header_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(30000, 30000))
    refused = refusal(path, tmp_path)
    assert refused.code == "too_many_pixels"
    assert "30000 × 30000（900 百万像素）" in refused.reason_zh
    assert "100 百万像素" in refused.reason_zh  # and the limit


def test_a_png_just_over_the_limit_is_refused_naming_its_dimensions(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(png_header_only(12000, 10000))
    refused = refusal(path, tmp_path)
    assert refused.code == "too_many_pixels"
    assert "12000 × 10000" in refused.reason_zh


def test_the_pixel_limit_comes_from_settings(tmp_path: Path) -> None:
    path = write(tmp_path, "p.png", photo((1000, 1000)), "PNG")
    tight = Settings.from_env({}, image_max_pixels=500_000)
    refused = refusal(path, tmp_path, tight)
    assert refused.code == "too_many_pixels"
    assert "1000 × 1000" in refused.reason_zh


def test_too_many_bytes_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "p.png", photo((1000, 1000)), "PNG")
    tight = Settings.from_env({}, image_max_bytes=1000)
    refused = refusal(path, tmp_path, tight)
    assert refused.code == "too_large_file"
    assert "MB" in refused.reason_zh


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_truncated_image_is_refused(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path, "p.img", photo((800, 600)), fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert refusal(path, tmp_path).code == "damaged_image"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animated_image_is_refused(tmp_path: Path, fmt: str) -> None:
    frames = [photo((200, 200)), Image.new("RGB", (200, 200), (255, 0, 0))]
    path = tmp_path / "anim.img"
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    refused = refusal(path, tmp_path)
    assert refused.code == "animated"
    assert "动图" in refused.reason_zh


def test_exif_orientation_is_applied_and_all_metadata_is_gone(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "PhoneModel X"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (31.0, 14.0, 0.0)
    gps[3] = "E"
    gps[4] = (121.0, 28.0, 0.0)
    source = photo((1200, 800))
    path = write(tmp_path, "p.jpg", source, "JPEG", exif=exif.tobytes())
    with Image.open(path) as check:
        assert check.getexif().get_ifd(0x8825)  # the fixture does carry GPS
    outputs = run(path, tmp_path)
    assert (outputs[0].width, outputs[0].height) == (800, 1200)
    written = (tmp_path / "out" / outputs[0].name).read_bytes()
    for marker in (b"Exif", b"PhoneMaker", b"PhoneModel", b"http://ns.adobe.com/xap"):
        assert marker not in written
    with Image.open(io.BytesIO(written)) as image:
        assert not image.getexif()
        # Rotated clockwise: the source's top-left (dark) corner is now at the top right.
        expected = source.transpose(Image.Transpose.ROTATE_270).resize(image.size)
        assert (
            _mean_difference(
                image.convert("RGB").crop((0, 0, 200, 200)), expected.crop((0, 0, 200, 200))
            )
            < 12
        )


def test_xmp_and_comments_are_not_copied(tmp_path: Path) -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret>location</secret></x:xmpmeta>'
    path = write(tmp_path, "p.jpg", photo((600, 400)), "JPEG", xmp=xmp, comment=b"hidden note")
    outputs = run(path, tmp_path)
    written = (tmp_path / "out" / outputs[0].name).read_bytes()
    assert b"secret" not in written
    assert b"hidden note" not in written


def test_a_heic_from_a_phone_is_processed(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.HEIC"
    pillow_heif.from_pillow(photo((1500, 1000))).save(path, quality=70)
    assert original_kind(path.read_bytes()[:16]) == "heif"
    outputs = run(path, tmp_path)
    assert (outputs[0].width, outputs[0].height) == (1500, 1000)


def test_cmyk_jpeg_is_converted_to_rgb(tmp_path: Path) -> None:
    red = Image.new("RGB", (400, 300), (220, 30, 30)).convert("CMYK")
    path = write(tmp_path, "p.jpg", red, "JPEG")
    outputs = run(path, tmp_path)
    with Image.open(tmp_path / "out" / outputs[-1].name) as image:
        r, g, b = image.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
    assert r > 180 and g < 80 and b < 80


def test_palette_with_transparency_is_flattened_on_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (100, 100, 200, 200))
    path = write(tmp_path, "p.png", image.convert("P"), "PNG", transparency=0)
    rgba = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (100, 100, 200, 200))
    path2 = write(tmp_path, "q.png", rgba, "PNG")
    for source in (path, path2):
        outputs = run(source, tmp_path)
        with Image.open(tmp_path / "out" / outputs[0].name) as out:
            assert out.getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=3)
            r, g, b = out.getpixel((150, 150))  # type: ignore[misc]
            assert b > 200 and r < 50


@pytest.mark.parametrize("size", [(300, 200), (5000, 300)])
def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path, size: tuple[int, int]) -> None:
    # The wide one is reduced before it is scaled to 8 bits.
    grey = Image.new("I;16", size, 32768)
    path = write(tmp_path, "p.png", grey, "PNG")
    with Image.open(path) as check:
        assert check.mode.startswith("I")
    outputs = run(path, tmp_path)
    with Image.open(tmp_path / "out" / outputs[0].name) as out:
        value = out.convert("L").getpixel((10, 10))
    assert value == pytest.approx(128, abs=4)


def test_an_icc_profile_is_converted_and_dropped(tmp_path: Path) -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (srgb, profile, b"not a profile"):
        path = write(tmp_path, "p.jpg", photo((400, 300)), "JPEG", icc_profile=icc)
        outputs = run(path, tmp_path)
        with Image.open(tmp_path / "out" / outputs[0].name) as out:
            assert "icc_profile" not in out.info


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).convert("L")
    histogram = diff.histogram()
    return sum(i * n for i, n in enumerate(histogram)) / max(1, sum(histogram))


def test_the_watermark_is_in_the_corner_and_carries_the_number(tmp_path: Path) -> None:
    flat = Image.new("RGB", (2400, 1600), (40, 90, 160))
    path = write(tmp_path, "p.png", flat, "PNG")
    numbered = run(path, tmp_path, entry_number=12)
    with Image.open(tmp_path / "out" / numbered[0].name) as image:
        numbered_image = image.convert("RGB")
    blind_dir = tmp_path / "blind"
    blind_dir.mkdir()
    blind = process_image(str(path), str(blind_dir), SETTINGS, entry_number=None)
    with Image.open(blind_dir / blind[0].name) as image:
        blind_image = image.convert("RGB")
    width, height = numbered_image.size
    plain = flat.resize((width, height))
    corner = (width - 600, height - 150, width, height)
    far = (0, 0, 300, 150)
    assert _mean_difference(numbered_image.crop(corner), plain.crop(corner)) > 5
    assert _mean_difference(numbered_image.crop(far), plain.crop(far)) < 2
    # A blind contest's image carries no number: it differs where "No.0012" was.
    assert _mean_difference(blind_image.crop(corner), numbered_image.crop(corner)) > 1
    assert _mean_difference(blind_image.crop(corner), plain.crop(corner)) > 2


def test_a_thin_strip_still_gets_its_sizes(tmp_path: Path) -> None:
    path = write(tmp_path, "p.png", photo((3000, 20)), "PNG")
    outputs = run(path, tmp_path, entry_number=1)
    assert [(o.width, o.height) for o in outputs] == [(2048, 14), (1080, 7), (480, 3)]


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe1\x00\x10Exif", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "heif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "heif"),
        (b"%PDF-1.7\n%\xe2\xe3", "pdf"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", None),  # an MP4
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00", None),
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"<svg xmlns=", None),
        (b"RIFF\x00\x00\x00\x00AVI LIST", None),
        (b"", None),
    ],
)
def test_original_kind_reads_the_first_bytes(head: bytes, kind: str | None) -> None:
    assert original_kind(head) == kind
