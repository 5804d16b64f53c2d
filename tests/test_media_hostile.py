"""Hostile media: ffmpeg decodes exactly the streams the probe accepted, at a bounded size,
and whatever goes wrong, contestants read a Chinese sentence while operators get the detail.

Every file is made here with ffmpeg's lavfi sources (nothing is committed).
"""

from __future__ import annotations

import dataclasses
import re
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import worker.jobs
import worker.media.ffmpeg_run
import worker.media.subprocesses
import worker.tasks
from storage.models import AssetKind, EntryStatus, JobState, MediaAsset, Role
from storage.objects import ObjectStore, ObjectStoreError
from storage.settings import Settings
from tests.factories import make_user, stored_job
from tests.media import ffmpeg, ffprobe, make_clip, streams
from worker.media.ffmpeg_run import FfmpegFailed
from worker.media.pipeline import command_for, plan_for, probe_file, process_file
from worker.media.refusal import MediaRefused
from worker.reasons import FALLBACK, contestant_reason, job_reason

SETTINGS = Settings.from_env({})
SECRET = "secret /tmp/path"
# One decoded 8192x8192 frame (4:2:0). The hostile file's ffmpeg may use less than that more
# than the same clip without those frames: it never holds one. Before, it held ten or more
# (1.1 GB against 80 MB); now only the decoder's tables for the larger size are allocated
# (about 25 MB for each of its threads) before it refuses the frame and the run is stopped.
ONE_HUGE_FRAME = 8192 * 8192 * 3 // 2


# --- files -------------------------------------------------------------------------------


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    while start < end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        assert size >= 8, "this helper reads only plain 32-bit boxes"
        yield kind, start, start + size
        start += size


def cover_parsed_first(src: Path, dst: Path) -> Path:
    """Move the `udta` box (which holds the cover, `covr`) to the front of `moov`.

    ffmpeg writes it last, so its demuxer lists the cover last; a crafted file lists it
    first. The `moov` follows `mdat`, so no chunk offset moves.
    """
    data = src.read_bytes()
    out = bytearray()
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"moov":
            out += data[start:end]
            continue
        children = list(_boxes(data, start + 8, end))
        first = [data[a:b] for k, a, b in children if k == b"udta"]
        rest = [data[a:b] for k, a, b in children if k != b"udta"]
        out += data[start : start + 8] + b"".join(first + rest)
    dst.write_bytes(bytes(out))
    return dst


# The real video is blue; the cover is a huge red picture.
BLUE = "0x2040E0"


def real_video(path: Path, seconds: float = 2.0) -> Path:
    ffmpeg(
        *("-f", "lavfi", "-i", f"color=c={BLUE}:s=320x240:r=25:d={seconds}"),
        *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)),
    )
    return path


def cover_picture(path: Path) -> Path:
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=8000x8000", "-frames:v", "1", str(path))
    return path


@pytest.fixture(scope="module")
def cover_first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MP4: an 8000x8000 PNG attached picture as stream 0, then H.264 and AAC."""
    tmp = tmp_path_factory.mktemp("cover")
    real, cover = real_video(tmp / "real.mp4"), cover_picture(tmp / "cover.png")
    last = tmp / "cover_last.mp4"
    ffmpeg(
        *("-i", str(cover), "-i", str(real), "-map", "0:v", "-map", "1:v", "-map", "1:a"),
        *("-c", "copy", "-disposition:v:0", "attached_pic", str(last)),
    )
    path = cover_parsed_first(last, tmp / "cover_first.mp4")
    kinds = [(s["codec_name"], s["disposition"]["attached_pic"]) for s in ffprobe(path)["streams"]]
    assert kinds == [("png", 1), ("h264", 0), ("aac", 0)]  # what the attacker made
    return path


@pytest.fixture(scope="module")
def still_track_first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Matroska: the same picture as a one-frame PNG video track before the H.264 one."""
    tmp = tmp_path_factory.mktemp("still")
    real, cover = real_video(tmp / "real.mp4"), cover_picture(tmp / "cover.png")
    path = tmp / "still_first.mkv"
    ffmpeg(
        *("-i", str(cover), "-i", str(real), "-map", "0:v", "-map", "1:v", "-map", "1:a"),
        *("-c", "copy", str(path)),
    )
    assert [s["codec_name"] for s in ffprobe(path)["streams"]] == ["png", "h264", "aac"]
    return path


def annexb(path: Path, size: str, seconds: float, source: str = "testsrc2") -> Path:
    """A raw H.264 stream (Annex B), which can be joined to another by concatenation."""
    options = f"s={size}:r=25:d={seconds}"
    ffmpeg(
        *("-f", "lavfi", "-i", f"{source}:{options}" if "=" in source else f"{source}={options}"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
        *("-bsf:v", "h264_mp4toannexb", "-f", "h264", str(path)),
    )
    return path


def joined(path: Path, parts: list[Path]) -> Path:
    """The parts one after another in one H.264 stream (a new SPS at each join), in MP4."""
    raw = path.with_suffix(".h264")
    raw.write_bytes(b"".join(part.read_bytes() for part in parts))
    ffmpeg("-r", "25", "-i", str(raw), "-c", "copy", str(path))
    return path


@pytest.fixture(scope="module")
def resizing(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Streams probed at 320x240 whose later frames are larger, and the same without those.

    A long 320x240 tail follows the large frames, so ffmpeg still runs when it is stopped.
    """
    tmp = tmp_path_factory.mktemp("resizing")
    head = annexb(tmp / "head.h264", "320x240", 1)
    tail = annexb(tmp / "tail.h264", "320x240", 30)
    huge = annexb(tmp / "huge.h264", "8192x8192", 0.4, "color=c=gray")
    wide = annexb(tmp / "wide.h264", "8192x512", 0.4, "color=c=gray")
    bigger = annexb(tmp / "bigger.h264", "1280x720", 1)
    return {
        "normal": joined(tmp / "normal.mp4", [head, tail]),
        "huge": joined(tmp / "huge.mp4", [head, huge, tail]),
        "wide": joined(tmp / "wide.mp4", [head, wide, tail]),
        "bigger": joined(tmp / "bigger.mp4", [head, bigger, head]),
    }


@pytest.fixture(scope="module")
def av1_growing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """AV1 (decoded by dav1d, which says it differently): 320x240, two 8192x8192 frames, more."""
    tmp = tmp_path_factory.mktemp("av1")
    parts = []
    for name, source in [
        ("head", "testsrc2=s=320x240:r=25:d=1"),
        ("huge", "color=c=gray:s=8192x8192:r=25:d=0.08"),
        ("tail", "testsrc2=s=320x240:r=25:d=10"),
    ]:
        parts.append(tmp / f"{name}.mkv")
        ffmpeg("-f", "lavfi", "-i", source, "-c:v", "libsvtav1", "-preset", "12", str(parts[-1]))
    listing = tmp / "parts.txt"
    listing.write_text("".join(f"file '{part}'\n" for part in parts))
    path = tmp / "growing.mkv"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(path))
    return path


@pytest.fixture()
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every ffmpeg and ffprobe command line the media code starts, as it starts them."""
    started: list[list[str]] = []
    real_popen = worker.media.subprocesses.popen

    def recording(args: Any, **kwargs: Any) -> Any:
        started.append(list(args))
        return real_popen(args, **kwargs)

    monkeypatch.setattr(worker.media.subprocesses, "popen", recording)
    monkeypatch.setattr(worker.media.ffmpeg_run, "popen", recording)
    return started


def centre_colour(path: Path) -> tuple[int, int, int]:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        return rgb.getpixel((rgb.width // 2, rgb.height // 2))  # type: ignore[return-value]


def frame_sizes(path: Path) -> set[tuple[int, int]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries"]
        + ["frame=width,height", "-of", "csv=p=0", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return {tuple(int(n) for n in line.split(",")[:2]) for line in out.split()}  # type: ignore[misc]


def run(src: Path, tmp_path: Path, settings: Settings = SETTINGS) -> Any:
    out = tmp_path / f"out-{src.stem}"
    out.mkdir()
    return process_file(str(src), str(out), settings, entry_number=7), out


# --- 1. the stream the probe accepted is the one decoded -----------------------------------


def test_the_probe_skips_a_cover_and_names_the_streams_it_accepted(cover_first: Path) -> None:
    info = probe_file(str(cover_first), SETTINGS)
    assert (info.video_codec, info.width, info.height) == ("h264", 320, 240)
    assert (info.video_index, info.audio_index) == (1, 2)


@pytest.mark.parametrize("fixture", ["cover_first", "still_track_first"])
def test_a_picture_before_the_video_is_never_decoded(
    request: pytest.FixtureRequest, fixture: str, tmp_path: Path, commands: list[list[str]]
) -> None:
    src = request.getfixturevalue(fixture)
    manifest, out = run(src, tmp_path)
    assert [(r.width, r.height) for r in manifest.renditions] == [(320, 240)]
    rendition = out / manifest.renditions[0].file
    assert frame_sizes(rendition) == {(320, 240)}
    # The picture is the real video's (blue), not the cover's (red).
    red, green, blue = centre_colour(out / "poster_large.jpg")
    assert blue > 150 and red < 100, (red, green, blue)
    assert len(streams(ffprobe(rendition), "audio")) == 1
    # Every ffmpeg run (the audio pass, its re-measurement, the one video run with its
    # posters, storyboard and quality branch) names the accepted streams by index.
    runs = [args for args in commands if Path(args[0]).name == "ffmpeg"]
    assert len(runs) >= 2
    for args in runs:
        graph = args[args.index("-filter_complex") + 1]
        assert not re.search(r"\[0:[va]\]|\[0:[va]:", graph), graph
        assert set(re.findall(r"\[0:(\d+)\]", graph)) <= {"1", "2"}, graph
        assert "[0:2]" in graph  # the sound
    video_run = runs[-1]
    assert "[0:1]" in video_run[video_run.index("-filter_complex") + 1]


@pytest.mark.integration
def test_a_cover_first_job_is_ready_with_the_real_video(
    cover_first: Path,
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    job = stored_job(session, object_store, settings, cover_first)
    assert worker.jobs.process_job(session_factory, object_store, settings, job.id) is (
        JobState.READY
    )
    session.refresh(job)
    assert job.entry.status is EntryStatus.READY and job.reason == ""
    renditions = session.scalars(
        select(MediaAsset).where(
            MediaAsset.entry_id == job.entry_id, MediaAsset.kind == AssetKind.RENDITION
        )
    ).all()
    assert [(a.width, a.height) for a in renditions] == [(320, 240)]


# --- 2. frames that grow after the probe --------------------------------------------------


def test_the_first_filter_after_decoding_scales_to_the_plan(
    cover_first: Path, tmp_path: Path
) -> None:
    plan = plan_for(probe_file(str(cover_first), SETTINGS), SETTINGS)
    args = command_for(plan, str(cover_first), str(tmp_path), SETTINGS, None)
    graph = args[args.index("-filter_complex") + 1]
    # Decoded once, and the decoded frames go straight into the scale to the planned size.
    assert graph.count("[0:1]") == 1
    first = re.search(r"\[0:1\]([a-z_]+)=([^;\[]*)", graph)
    assert first is not None and first.group(1) == "scale", graph
    assert first.group(2).endswith(",320):240"), graph  # ffmpeg-python escapes the commas
    # And no decoder allocates a frame larger than the limit's area: the accepted stream's
    # bound is the one its refusal names; other streams (the cover) get one pixel less.
    bound = SETTINGS.max_dimension**2
    assert args[args.index("-max_pixels:1") + 1] == str(bound)
    assert args[args.index("-max_pixels") + 1] == str(bound - 1)
    assert args.index("-max_pixels") < args.index("-max_pixels:1") < args.index("-i")


@pytest.mark.parametrize("case", ["huge", "wide", "av1"])
def test_frames_past_the_limit_later_in_the_stream_are_refused(
    request: pytest.FixtureRequest, case: str, tmp_path: Path
) -> None:
    src = (
        request.getfixturevalue("av1_growing")
        if case == "av1"
        else (request.getfixturevalue("resizing")[case])
    )
    assert probe_file(str(src), SETTINGS).width == 320  # what the probe sees
    with pytest.raises(MediaRefused) as caught:
        run(src, tmp_path)
    refusal = caught.value
    assert refusal.code == "frame_size_changed"
    assert "4096" in refusal.reason_zh and "重新导出" in refusal.reason_zh


def test_oversized_frames_cost_no_more_memory_than_normal_ones(
    resizing: dict[str, Path], tmp_path: Path
) -> None:
    manifest, _ = run(resizing["normal"], tmp_path)
    normal = manifest.run.peak_bytes
    assert normal > 10 * 1024**2  # a real measurement
    with pytest.raises(MediaRefused) as caught:
        run(resizing["huge"], tmp_path)
    stopped = caught.value.__cause__
    assert isinstance(stopped, FfmpegFailed)
    assert 0 < stopped.peak_bytes < normal + ONE_HUGE_FRAME, (normal, stopped.peak_bytes)


def test_a_stream_that_grows_within_the_limit_is_scaled_to_the_plan(
    resizing: dict[str, Path], tmp_path: Path
) -> None:
    manifest, out = run(resizing["bigger"], tmp_path)
    rendition = out / manifest.renditions[0].file
    assert frame_sizes(rendition) == {(320, 240)}
    assert manifest.run.frames >= 70  # 3 s at 25 fps: none of the larger frames lost


# --- 3. what contestants and operators read ----------------------------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (
            job_reason("视频处理失败，请重新导出", f"ffmpeg: {SECRET} (x) 视频"),
            "视频处理失败，请重新导出",
        ),
        ("系统内部错误 (internal error: RuntimeError: boom)", "系统内部错误"),  # as stored before
        (f"RuntimeError: {SECRET}", FALLBACK),  # no sentence at all
        # A sentence that slipped in an ASCII bracket still ends where the detail starts.
        (job_reason("画面变大 (8192×8192)", "detail"), "画面变大（8192×8192)"),
        ("", ""),
    ],
)
def test_contestants_read_the_sentence_alone(stored: str, shown: str) -> None:
    assert contestant_reason(stored) == shown


def _raise(exc: Exception) -> Any:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise exc

    return fail


@pytest.mark.integration
@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (RuntimeError(SECRET), "internal"),  # a bug: the task's last resort
        (FfmpegFailed(1, SECRET), "ffmpeg"),
        (ObjectStoreError(SECRET), "unavailable"),  # a passing fault, retried to the end
        (MediaRefused("too_long", "视频太长", SECRET), "too_long"),
    ],
    ids=["internal", "ffmpeg", "unavailable", "refused"],
)
def test_contestants_read_a_chinese_sentence_and_operators_the_detail(
    exc: Exception,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
    client: FlaskClient,
    auth: Any,
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    job = stored_job(session, object_store, settings, make_clip(tmp_path / "c.mp4", 320, 240, 1))
    monkeypatch.setattr(worker.jobs, "process_file", _raise(exc))
    no_retries = dataclasses.replace(settings, task_max_retries=0)
    monkeypatch.setattr(
        worker.tasks, "_resources", lambda: (no_retries, session_factory, object_store)
    )
    worker.tasks.transcode_entry.apply(args=[job.id])
    session.refresh(job)
    assert job.reason_code == code and SECRET in job.reason  # kept for operators

    auth.login(job.entry.owner.username)
    shown = client.get(f"/api/v1/entries/{job.entry_id}").get_json()["job"]["reason"]
    page = client.get(f"/submit/{job.entry_id}").get_data(as_text=True)
    for text in (shown, page):
        assert "secret" not in text and "/tmp/path" not in text
        assert "Error" not in text and "ffmpeg" not in text
    assert re.fullmatch(r"[^\x00-\x7f][^()]*", shown), shown  # one Chinese sentence
    assert shown in page

    auth.logout()
    auth.login(make_user(session, Role.OPERATOR).username)
    assert SECRET in client.get("/ops/").get_data(as_text=True)
