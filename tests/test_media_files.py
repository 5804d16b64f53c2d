"""The pipeline on a corpus of generated files, without queue or S3, and its command line.

Each case is either processed correctly (checked with ffprobe and Pillow) or refused with its
reason within seconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from storage.settings import Settings
from tests.media import ffmpeg, ffprobe, image_size, make_clip, streams
from worker.media.pipeline import Manifest, process_file
from worker.media.refusal import MediaRefused

SETTINGS = Settings.from_env({})


def run_pipeline(src: Path, tmp_path: Path) -> tuple[Manifest, Path]:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return process_file(str(src), str(out), SETTINGS, entry_number=3), out


def video_of(path: Path) -> dict[str, Any]:
    return streams(ffprobe(path), "video")[0]


def audio_of(path: Path) -> dict[str, Any]:
    return streams(ffprobe(path), "audio")[0]


def keyframe_times(path: Path) -> list[float]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v",
            "-skip_frame",
            "nokey",
            "-show_entries",
            "frame=pts_time",
            "-of",
            "csv=p=0",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [round(float(line.strip(",")), 2) for line in out.split() if line.strip(",")]


def test_vertical_phone_video_gets_the_whole_ladder(tmp_path: Path) -> None:
    manifest, out = run_pipeline(make_clip(tmp_path / "v.mp4", 1080, 1920, 4.2, 30), tmp_path)
    sizes = [(r.width, r.height) for r in manifest.renditions]
    assert sizes == [(1080, 1920), (720, 1280), (480, 854)]
    for rendition in manifest.renditions:
        video, audio = video_of(out / rendition.file), audio_of(out / rendition.file)
        assert (video["width"], video["height"]) == (rendition.width, rendition.height)
        assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
        assert video.get("color_transfer") == "bt709"
        assert (audio["codec_name"], audio["channels"], audio["sample_rate"]) == ("aac", 2, "48000")
    # Keyframes every 2 s on the same grid in every rendition.
    grids = {tuple(keyframe_times(out / r.file)) for r in manifest.renditions}
    assert grids == {(0.0, 2.0, 4.0)}
    assert manifest.poster == ["poster_large.jpg", "poster_medium.jpg", "poster_small.jpg"]
    assert [image_size(out / p) for p in manifest.poster] == [(1080, 1920), (360, 640), (180, 320)]
    board = manifest.storyboard
    assert (board.tile_width, board.tile_height) == (90, 160)  # vertical stays vertical
    assert image_size(out / board.image) == (5 * 90, 160)
    assert (out / board.vtt).read_text().count("#xywh=") == 5
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [r.file for r in manifest.renditions] + manifest.poster + [board.image, board.vtt]
    )


def _quadrant_brightness(path: Path) -> list[float]:
    with Image.open(path) as img:
        gray = img.convert("L")
    w, h = gray.size
    boxes = [
        (0, 0, w // 2, h // 2),
        (w // 2, 0, w, h // 2),
        (0, h // 2, w // 2, h),
        (w // 2, h // 2, w, h),
    ]
    return [ImageStat.Stat(gray.crop(b)).mean[0] for b in boxes]


@pytest.mark.parametrize(
    # Stored frames are landscape with a white block at the top left; a phone's display
    # matrix says how to turn them (here counterclockwise, as ffmpeg writes `rotate`). The
    # bright quadrant must land where a player shows it.
    ("rotate", "size", "bright"),
    [("90", (360, 640), 2), ("180", (640, 360), 3), ("270", (360, 640), 1)],
)
def test_rotated_video_comes_out_upright(
    tmp_path: Path, rotate: str, size: tuple[int, int], bright: int
) -> None:
    plain = tmp_path / "plain.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=640x360:r=25:d=1.5",
        "-vf",
        "drawbox=x=0:y=0:w=320:h=180:color=white:t=fill",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(plain),
    )
    src = tmp_path / "rotated.mp4"
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", f"rotate={rotate}", str(src))
    manifest, out = run_pipeline(src, tmp_path)
    assert manifest.source.rotation == int(rotate)
    video = video_of(out / manifest.renditions[0].file)
    assert (video["width"], video["height"]) == size
    assert not video.get("side_data_list")
    quadrants = _quadrant_brightness(out / "poster_large.jpg")
    assert quadrants.index(max(quadrants)) == bright, quadrants


def test_odd_sizes_and_non_square_pixels_keep_their_shape(tmp_path: Path) -> None:
    odd = make_clip(tmp_path / "odd.mp4", 641, 361, 1, extra=["-vf", "pad=641:361"])
    manifest, out = run_pipeline(odd, tmp_path)
    assert [(r.width, r.height) for r in manifest.renditions] == [(640, 360)]

    anamorphic = make_clip(tmp_path / "dv.mp4", 720, 480, 1, extra=["-vf", "setsar=32/27"])
    (tmp_path / "out2").mkdir()
    manifest = process_file(str(anamorphic), str(tmp_path / "out2"), SETTINGS)
    video = video_of(tmp_path / "out2" / manifest.renditions[0].file)
    assert (video["width"], video["height"]) == (852, 480)
    assert video.get("sample_aspect_ratio", "1:1") in {"1:1", "0:1"}


def test_variable_frame_rate_becomes_constant(tmp_path: Path) -> None:
    src = make_clip(
        tmp_path / "vfr.mp4",
        640,
        360,
        3,
        30,
        extra=["-vf", "select='lt(n,30)+not(mod(n,3))'", "-fps_mode", "vfr"],
    )
    source = video_of(src)
    assert source["r_frame_rate"] != source["avg_frame_rate"]
    manifest, out = run_pipeline(src, tmp_path)
    video = video_of(out / manifest.renditions[0].file)
    assert video["r_frame_rate"] == video["avg_frame_rate"]


def test_high_frame_rate_is_capped(tmp_path: Path) -> None:
    manifest, out = run_pipeline(make_clip(tmp_path / "hfr.mp4", 640, 360, 1, 60), tmp_path)
    assert video_of(out / manifest.renditions[0].file)["r_frame_rate"] == "30/1"


def test_interlaced_video_is_deinterlaced(tmp_path: Path) -> None:
    src = make_clip(
        tmp_path / "i.mp4",
        720,
        576,
        1,
        extra=["-flags", "+ilme+ildct", "-top", "1", "-field_order", "tt"],
    )
    assert video_of(src).get("field_order") == "tt"
    manifest, out = run_pipeline(src, tmp_path)
    assert manifest.source.interlaced
    assert video_of(out / manifest.renditions[0].file).get("field_order", "progressive") in {
        "progressive",
        "unknown",
    }


def test_ten_bit_hdr_becomes_eight_bit_bt709(tmp_path: Path) -> None:
    src = make_clip(
        tmp_path / "hdr.mp4",
        640,
        360,
        1,
        extra=[
            "-pix_fmt",
            "yuv420p10le",
            "-color_primaries",
            "bt2020",
            "-color_trc",
            "smpte2084",
            "-colorspace",
            "bt2020nc",
        ],
    )
    assert video_of(src)["pix_fmt"] == "yuv420p10le"
    manifest, out = run_pipeline(src, tmp_path)
    assert manifest.source.hdr
    video = video_of(out / manifest.renditions[0].file)
    assert video["pix_fmt"] == "yuv420p"
    assert (video["color_transfer"], video["color_primaries"]) == ("bt709", "bt709")


@pytest.mark.parametrize(("layout", "rate"), [("mono", 22050), ("5.1", 48000), ("stereo", 44100)])
def test_any_audio_becomes_stereo_48k_aac(tmp_path: Path, layout: str, rate: int) -> None:
    src = tmp_path / "a.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:r=25:d=1",
        "-f",
        "lavfi",
        "-i",
        f"sine=r={rate}:d=1,aformat=channel_layouts={layout}",
        "-c:v",
        "libx264",
        "-c:a",
        "aac",
        "-shortest",
        str(src),
    )
    manifest, out = run_pipeline(src, tmp_path)
    audio = audio_of(out / manifest.renditions[0].file)
    assert (audio["channels"], audio["sample_rate"]) == (2, "48000")


def test_silent_video_gets_a_silent_track(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "s.mp4", 320, 240, 1.5, audio=False)
    manifest, out = run_pipeline(src, tmp_path)
    audio = audio_of(out / manifest.renditions[0].file)
    assert audio["codec_name"] == "aac" and audio["channels"] == 2


def test_audio_that_starts_late_stays_in_sync(tmp_path: Path) -> None:
    src = tmp_path / "late.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:r=25:d=3",
        "-itsoffset",
        "0.8",
        "-f",
        "lavfi",
        "-i",
        "sine=f=1000:d=2",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "libx264",
        "-c:a",
        "aac",
        str(src),
    )
    manifest, out = run_pipeline(src, tmp_path)
    rendition = out / manifest.renditions[0].file
    detected = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "info",
            "-i",
            str(rendition),
            "-af",
            "silencedetect=n=-40dB:d=0.2",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    ).stderr
    video_start = float(video_of(rendition).get("start_time", 0))
    tone_starts = float(re.findall(r"silence_end: ([\d.]+)", detected)[0])
    assert abs((tone_starts - video_start) - 0.8) < 0.1


def test_clip_under_a_second(tmp_path: Path) -> None:
    manifest, out = run_pipeline(make_clip(tmp_path / "short.mp4", 640, 360, 0.4), tmp_path)
    assert 0.3 < float(ffprobe(out / manifest.renditions[0].file)["format"]["duration"]) < 0.6
    assert (out / "poster_large.jpg").exists() and (out / "storyboard.jpg").exists()


def test_very_high_bitrate_is_capped(tmp_path: Path) -> None:
    src = make_clip(
        tmp_path / "hot.mp4", 1280, 720, 2, extra=["-b:v", "40M", "-x264-params", "keyint=1"]
    )
    manifest, out = run_pipeline(src, tmp_path)
    (rendition, smaller) = manifest.renditions
    assert rendition.bitrate < 2 * 2_800_000 and smaller.bitrate < 2 * 1_400_000


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
    for rendition in manifest.renditions:
        tags = ffprobe(out / rendition.file)["format"].get("tags", {})
        assert not {"location", "make", "com.apple.quicktime.location.ISO6709"} & set(tags)


HOSTILE = [
    ("empty.mp4", b"", "not_video"),
    ("notes.mp4", b"hello, this is text\n" * 100, "not_video"),
    ("concat.mp4", b"ffconcat version 1.0\nfile '/etc/passwd'\n", "not_video"),
    ("playlist.mp4", b"#EXTM3U\n#EXTINF:2,\nfile:///etc/hostname\n", "not_video"),
    (
        "dash.mp4",
        b'<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011">'
        b"<Period><AdaptationSet><Representation><BaseURL>/etc/passwd</BaseURL>"
        b"</Representation></AdaptationSet></Period></MPD>",
        "not_video",
    ),
    (
        "session.mp4",
        b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\n"
        b"t=0 0\r\nm=video 5004 RTP/AVP 96\r\n",
        "not_video",
    ),
]


@pytest.mark.parametrize(("name", "content", "code"), HOSTILE)
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
    assert src.read_bytes() == content  # the original is left as it was


def test_an_image_named_mp4_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "photo.mp4"
    ffmpeg(
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
    )
    with pytest.raises(MediaRefused) as caught:
        run_pipeline(src, tmp_path)
    assert caught.value.code == "not_video"


def test_absurd_dimensions_are_refused(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "wide.mp4", 4800, 64, 0.2, audio=False)
    with pytest.raises(MediaRefused) as caught:
        run_pipeline(src, tmp_path)
    assert caught.value.code == "too_large_frame"
    assert "超过上限 4096 像素" in caught.value.reason_zh


def test_too_long_video_is_refused_before_transcoding(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "long.mp4", 64, 64, 3, fps=5, audio=False)
    strict = Settings.from_env({}, max_duration_seconds=2.0)
    started = time.monotonic()
    with pytest.raises(MediaRefused) as caught:
        process_file(str(src), str(tmp_path), strict)
    assert caught.value.code == "too_long" and time.monotonic() - started < 5


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
    assert {"container", "video_codec", "rotation", "duration", "fps", "has_audio"} <= set(facts)

    out = tmp_path / "assets"
    processed = footprints("media", "process", str(src), "--out", str(out), "--entry-number", "9")
    assert processed.returncode == 0, processed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["file"] for r in manifest["renditions"]] == ["h264_480p.mp4"]
    assert {"file", "width", "height", "bitrate"} <= set(manifest["renditions"][0])
    assert manifest["source"]["has_audio"] is True
    assert all((out / name).exists() for name in manifest["poster"])
    assert (out / manifest["storyboard"]["image"]).exists()
    assert (out / manifest["storyboard"]["vtt"]).exists()


def test_cli_refusals_exit_3_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    expected = {
        "ok": False,
        "code": "not_video",
        "reason": "无法识别为视频文件，请上传 MP4、MOV 等常见格式的视频 "
        "(the file is not a video in a supported format)",
    }
    result = footprints("media", "probe", str(bad))
    assert result.returncode == 3 and json.loads(result.stdout) == expected
    result = footprints("media", "process", str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode == 3 and json.loads(result.stdout) == expected


def test_a_file_cut_short_after_its_index_is_refused(tmp_path: Path) -> None:
    # The index (moov) is at the front and announces 4 s; the media data stops after 1 s.
    full = make_clip(tmp_path / "full.mp4", 320, 240, 4, extra=["-movflags", "+faststart"])
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 4])
    with pytest.raises(MediaRefused) as caught:
        run_pipeline(cut, tmp_path)
    assert caught.value.code == "incomplete" and "视频文件不完整" in caught.value.reason_zh


@pytest.mark.parametrize(
    "container", ["mp4", "mov", "3gp", "mkv", "webm", "avi", "flv", "ts", "wmv"]
)
def test_upload_sniffing_knows_every_accepted_container(tmp_path: Path, container: str) -> None:
    from storage.sniff import HEAD_BYTES, looks_like_video

    path = tmp_path / f"clip.{container}"
    codec = {
        "webm": ["-c:v", "libvpx"],
        "flv": ["-c:v", "flv1"],
        "3gp": ["-c:v", "h263", "-s", "176x144"],
        "wmv": ["-c:v", "wmv2"],
    }
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:r=10:d=0.3",
        *codec.get(container, ["-c:v", "mpeg4"]),
        str(path),
    )
    assert looks_like_video(path.read_bytes()[:HEAD_BYTES])


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"hello world, not video",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 8,
        b"%PDF-1.7\n" + b"\0" * 8,
        b"PK\x03\x04" + b"\0" * 12,
    ],
)
def test_upload_sniffing_refuses_other_files(head: bytes) -> None:
    from storage.sniff import looks_like_video

    assert not looks_like_video(head)
