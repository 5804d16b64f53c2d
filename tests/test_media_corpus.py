"""Inputs that phones, old phones and desktop editors really produce, each decided on purpose.

Every case here is processed (README: "Accepted formats"); the refusals are in
test_media_files.py. Each clip is generated with ffmpeg, nothing is committed.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from storage.settings import Settings
from tests.media import ffmpeg, ffprobe, make_clip, streams
from worker.media.pipeline import Manifest, process_file

SETTINGS = Settings.from_env({})


def processed(src: Path, tmp_path: Path) -> tuple[Manifest, Path]:
    out = tmp_path / "out"
    out.mkdir(parents=True)
    manifest = process_file(str(src), str(out), SETTINGS, entry_number=5)
    return manifest, out / manifest.renditions[0].file


def atoms(path: Path) -> list[bytes]:
    """The top-level boxes of an MP4 file, in order."""
    data, found, at = path.read_bytes(), [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        found.append(data[at + 4 : at + 8])
        if size < 8:
            break
        at += size
    return found


def lengths(path: Path) -> dict[str, float]:
    return {s["codec_type"]: float(s["duration"]) for s in ffprobe(path)["streams"]}


def test_moov_at_the_end_as_phones_write_it(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "phone.mp4", 640, 360, 3)  # ffmpeg's default: index last
    assert atoms(src).index(b"moov") > atoms(src).index(b"mdat")
    manifest, rendition = processed(src, tmp_path)
    # Outputs carry the index first (faststart), so browsers play before the download ends.
    assert atoms(rendition).index(b"moov") < atoms(rendition).index(b"mdat")
    assert abs(lengths(rendition)["video"] - 3) < 0.1


def test_an_edit_list_that_starts_the_picture_late_stays_in_sync(tmp_path: Path) -> None:
    video, sound = tmp_path / "v.mp4", tmp_path / "a.m4a"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=4", "-c:v", "libx264", str(video))
    ffmpeg("-f", "lavfi", "-i", "sine=d=5.5", "-c:a", "aac", str(sound))
    src = tmp_path / "edit.mp4"
    # The picture starts 1.5 s in: an empty edit in the video track's edit list.
    ffmpeg("-itsoffset", "1.5", "-i", str(video), "-i", str(sound), "-c", "copy", str(src))
    assert float(streams(ffprobe(src), "video")[0]["start_time"]) == pytest.approx(1.5)
    manifest, rendition = processed(src, tmp_path)
    assert lengths(rendition) == pytest.approx({"video": 5.5, "audio": 5.5}, abs=0.1)
    assert all(float(s["start_time"]) == 0 for s in ffprobe(rendition)["streams"])
    assert not [f for f in manifest.qc if f.kind == "length_mismatch"]


def frame_hashes(path: Path) -> list[str]:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if not line.startswith("#")]


def frame_times(path: Path) -> list[float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts_time"]
        + ["-of", "csv=p=0", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [float(line.strip(",")) for line in out.split() if line.strip(",")]


@pytest.mark.parametrize("fps", [60, 120])
def test_high_frame_rates_come_out_at_30_and_smooth(tmp_path: Path, fps: int) -> None:
    src = make_clip(tmp_path / f"hfr{fps}.mp4", 640, 360, 2, fps)
    manifest, rendition = processed(src, tmp_path)
    video = streams(ffprobe(rendition), "video")[0]
    assert Fraction(video["r_frame_rate"]) == 30 and int(video["nb_frames"]) == 60
    times = frame_times(rendition)
    steps = {round(b - a, 3) for a, b in zip(times, times[1:], strict=False)}
    assert steps == {round(1 / 30, 3)}  # an even cadence: no frame held twice, none skipped
    assert len(set(frame_hashes(rendition))) == len(times)  # every frame a new picture


def test_a_4k_60fps_hevc_phone_clip(tmp_path: Path) -> None:
    landscape, src = tmp_path / "hevc4k.mp4", tmp_path / "hevc4k.mov"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=3840x2160:r=60:d=1",
        "-f", "lavfi", "-i", "sine=d=1",
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
        "-tag:v", "hvc1", "-c:a", "aac", str(landscape),
    )  # fmt: skip
    # Held upright: landscape frames and a display matrix, as phones record.
    ffmpeg("-i", str(landscape), "-c", "copy", "-metadata:s:v", "rotate=90", str(src))
    manifest, rendition = processed(src, tmp_path)
    assert manifest.source.video_codec == "hevc" and manifest.source.fps == 60
    sizes = [(r.width, r.height) for r in manifest.renditions]
    assert sizes == [(1080, 1920), (720, 1280), (480, 854)]  # held upright, as filmed
    video = streams(ffprobe(rendition), "video")[0]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1080, 1920)
    assert Fraction(video["r_frame_rate"]) == 30


def amr_nb(path: Path, seconds: float) -> Path:
    """An AMR-NB file (12.2 kbit/s frames) without an AMR encoder, which ffmpeg here lacks.

    Every 31-byte payload is a valid 12.2 kbit/s frame, so seeded random payloads decode to a
    real, noisy sound, as an old phone's microphone would record.
    """
    rng = random.Random(7)  # noqa: S311 - test data, not cryptography
    frames = int(seconds * 50)  # 20 ms each
    body = b"".join(b"\x3c" + rng.randbytes(31) for _ in range(frames))
    path.write_bytes(b"#!AMR\n" + body)
    return path


def test_an_old_phone_3gp_with_h263_and_amr_nb(tmp_path: Path) -> None:
    src = tmp_path / "old.3gp"
    sound = amr_nb(tmp_path / "s.amr", 3)
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=176x144:r=15:d=3", "-i", str(sound),
        "-c:v", "h263", "-c:a", "copy", str(src),
    )  # fmt: skip
    info = ffprobe(src)
    assert [s["codec_name"] for s in info["streams"]] == ["h263", "amr_nb"]
    manifest, rendition = processed(src, tmp_path)
    assert [(r.width, r.height) for r in manifest.renditions] == [(176, 144)]
    audio = streams(ffprobe(rendition), "audio")[0]
    assert (audio["codec_name"], audio["channels"], audio["sample_rate"]) == ("aac", 2, "48000")
    assert "low_resolution" in [f.kind for f in manifest.qc]  # told, not refused


def test_a_windows_movie_maker_wmv(tmp_path: Path) -> None:
    src = tmp_path / "movie.wmv"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=640x480:r=25:d=2", "-f", "lavfi", "-i", "sine=d=2",
        "-c:v", "wmv2", "-b:v", "2M", "-c:a", "wmav2", str(src),
    )  # fmt: skip
    assert ffprobe(src)["format"]["format_name"] == "asf"
    manifest, rendition = processed(src, tmp_path)
    assert manifest.source.container == "asf" and manifest.source.video_codec == "wmv2"
    assert lengths(rendition)["video"] == pytest.approx(2, abs=0.1)


def test_an_avi_with_mjpeg_and_pcm(tmp_path: Path) -> None:
    src = tmp_path / "camera.avi"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=640x480:r=25:d=2", "-f", "lavfi", "-i", "sine=d=2",
        "-c:v", "mjpeg", "-q:v", "3", "-c:a", "pcm_s16le", str(src),
    )  # fmt: skip
    manifest, rendition = processed(src, tmp_path)
    assert (manifest.source.video_codec, manifest.source.audio_codec) == ("mjpeg", "pcm_s16le")
    video = streams(ffprobe(rendition), "video")[0]
    # Full-range JPEG colour comes out as ordinary limited-range 4:2:0 video.
    assert video["pix_fmt"] == "yuv420p" and video.get("color_range", "tv") == "tv"


def test_the_same_source_gives_the_same_pictures(tmp_path: Path) -> None:
    # Deterministic outputs are what make a redelivered job safe to run twice.
    src = make_clip(tmp_path / "c.mp4", 320, 240, 1)
    first, _ = processed(src, tmp_path / "a")
    again, _ = processed(src, tmp_path / "b")
    digest = [
        hashlib.sha256((tmp_path / run / "out" / r.file).read_bytes()).hexdigest()
        for run, manifest in (("a", first), ("b", again))
        for r in manifest.renditions
    ]
    assert digest[0] == digest[1]
