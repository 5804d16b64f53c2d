"""The pipeline on real generated files, without queue or S3, and its command line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.settings import Settings
from tests.media import ffprobe, make_clip, streams
from worker.media.pipeline import process_file
from worker.media.refusal import MediaRefused

SETTINGS = Settings.from_env({})


def run_pipeline(src: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    out.mkdir()
    return process_file(str(src), str(out), SETTINGS, entry_number=3), out


def test_vertical_phone_video(tmp_path: Path) -> None:
    manifest, out = run_pipeline(make_clip(tmp_path / "v.mp4", 1080, 1920, 2), tmp_path)
    (rendition,) = manifest.renditions
    video = streams(ffprobe(out / rendition.file), "video")[0]
    assert (video["width"], video["height"]) == (720, 1280)
    assert (out / "poster.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert not list(out.glob("watermark_*"))


def test_rotated_video_comes_out_upright(tmp_path: Path) -> None:
    plain = make_clip(tmp_path / "plain.mp4", 640, 360, 2)
    src = tmp_path / "r.mp4"
    # As a phone stores portrait video: landscape frames plus a display rotation.
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(plain),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            str(src),
        ],
        check=True,
        timeout=60,
    )
    manifest, out = run_pipeline(src, tmp_path)
    assert manifest.source.rotation in (90, 270)
    video = streams(ffprobe(out / manifest.renditions[0].file), "video")[0]
    assert (video["width"], video["height"]) == (360, 640)
    assert not any("rotation" in s for s in video.get("side_data_list", []))


def test_small_silent_video_is_not_upscaled_and_gets_audio(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "s.mp4", 320, 240, 1.5, audio=False)
    manifest, out = run_pipeline(src, tmp_path)
    info = ffprobe(out / manifest.renditions[0].file)
    video, audio = streams(info, "video")[0], streams(info, "audio")
    assert (video["width"], video["height"]) == (320, 240)
    assert audio and audio[0]["codec_name"] == "aac" and audio[0]["channels"] == 2


def test_phone_metadata_is_stripped(tmp_path: Path) -> None:
    src = make_clip(
        tmp_path / "gps.mp4",
        640,
        360,
        1,
        extra=["-metadata", "location=+39.9042+116.4074/", "-metadata", "make=Phone"],
    )
    assert "location" in ffprobe(src)["format"].get("tags", {})
    manifest, out = run_pipeline(src, tmp_path)
    tags = ffprobe(out / manifest.renditions[0].file)["format"].get("tags", {})
    assert "location" not in tags and "make" not in tags


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.mp4", b"", "not_video"),
        ("notes.mp4", b"hello, this is text\n" * 100, "not_video"),
        ("concat.mp4", b"ffconcat version 1.0\nfile '/etc/passwd'\n", "not_video"),
        ("playlist.mp4", b"#EXTM3U\n#EXTINF:2,\nfile:///etc/hostname\n", "not_video"),
    ],
)
def test_hostile_and_broken_files_are_refused_quickly(
    tmp_path: Path, name: str, content: bytes, code: str
) -> None:
    src = tmp_path / name
    src.write_bytes(content)
    started = time.monotonic()
    with pytest.raises(MediaRefused) as caught:
        run_pipeline(src, tmp_path)
    assert caught.value.code == code
    assert time.monotonic() - started < 10
    assert not list((tmp_path / "out").iterdir())


def test_an_image_named_mp4_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "photo.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x64",
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "png",
            str(src),
        ],
        check=True,
    )
    with pytest.raises(MediaRefused) as caught:
        run_pipeline(src, tmp_path)
    assert caught.value.code == "not_video"


def test_truncated_mp4_is_refused(tmp_path: Path) -> None:
    # An interrupted recording or upload: the index at the end of the file is missing.
    full = make_clip(tmp_path / "full.mp4", 320, 240, 2)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    with pytest.raises(MediaRefused) as caught:
        run_pipeline(cut, tmp_path)
    assert caught.value.code == "not_video"


def footprints(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_probe_and_process(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "c.mp4", 480, 640, 1)
    probed = footprints("media", "probe", str(src))
    assert probed.returncode == 0, probed.stderr
    facts = json.loads(probed.stdout)
    assert facts["ok"] is True and (facts["width"], facts["height"]) == (480, 640)

    out = tmp_path / "assets"
    processed = footprints("media", "process", str(src), "--out", str(out), "--entry-number", "9")
    assert processed.returncode == 0, processed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["renditions"][0]["file"] == "h264_480p.mp4"
    assert manifest["source"]["has_audio"] is True
    assert (out / manifest["poster"][0]).exists()


def test_cli_probe_refusal_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    result = footprints("media", "probe", str(bad))
    assert result.returncode == 3
    assert json.loads(result.stdout) == {
        "ok": False,
        "code": "not_video",
        "reason": "无法识别为视频文件，请上传 MP4、MOV 等常见格式的视频 "
        "(the file is not a video in a supported format)",
    }
