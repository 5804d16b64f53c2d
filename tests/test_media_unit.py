"""Media rules without running ffmpeg: probe parsing, limits, the plan and the command."""

from __future__ import annotations

from typing import Any

import pytest

from worker.media.command import build_command
from worker.media.ffmpeg_run import ProgressTracker
from worker.media.limits import MediaLimits
from worker.media.plan import fit_short_side, plan_encoding
from worker.media.probe import ProbeResult, check, format_duration_zh, parse
from worker.media.refusal import MediaRefused
from worker.media.watermark import render_watermark


def probe_json(
    width: int = 1920,
    height: int = 1080,
    rotation: float | None = None,
    duration: str = "12.0",
    audio: bool = True,
    vcodec: str = "h264",
) -> dict[str, Any]:
    video: dict[str, Any] = {
        "codec_type": "video",
        "codec_name": vcodec,
        "width": width,
        "height": height,
        "avg_frame_rate": "30000/1001",
    }
    if rotation is not None:
        video["side_data_list"] = [{"side_data_type": "Display Matrix", "rotation": rotation}]
    streams = [video]
    if audio:
        streams.append({"codec_type": "audio", "codec_name": "aac"})
    return {
        "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": duration},
        "streams": streams,
    }


def source(**kwargs: Any) -> ProbeResult:
    return parse(probe_json(**kwargs))


def test_parse_reads_the_facts() -> None:
    info = source()
    assert (info.container, info.video_codec, info.audio_codec) == ("mov", "h264", "aac")
    assert (info.width, info.height, info.rotation) == (1920, 1080, 0)
    assert info.fps == pytest.approx(29.97)
    assert info.duration == 12.0 and info.has_audio


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [(-90, (1080, 1920, 90)), (90, (1080, 1920, 270)), (180, (1920, 1080, 180))],
)
def test_display_rotation_gives_the_upright_size(rotation: float, expected: tuple) -> None:  # type: ignore[type-arg]
    info = source(rotation=rotation)
    assert (info.width, info.height, info.rotation) == expected


def test_a_file_without_video_is_refused() -> None:
    with pytest.raises(MediaRefused) as caught:
        parse({"format": {"format_name": "mp3"}, "streams": [{"codec_type": "audio"}]})
    assert caught.value.code == "no_video"


@pytest.mark.parametrize(
    ("kwargs", "code", "zh"),
    [
        ({"duration": "750"}, "too_long", "视频时长 12分30秒，超过上限 10分钟"),
        ({"duration": "0.05"}, "too_short", "视频时长过短"),
        ({"width": 8000, "height": 4000}, "too_large_frame", "超过上限 4096 像素"),
        ({"vcodec": "rawvideo"}, "video_codec", "不支持的视频编码 rawvideo"),
    ],
)
def test_limits_refuse_with_a_chinese_reason(kwargs: dict[str, Any], code: str, zh: str) -> None:
    with pytest.raises(MediaRefused) as caught:
        check(source(**kwargs), MediaLimits())
    assert caught.value.code == code
    assert zh in caught.value.reason and "(" in caught.value.reason


@pytest.mark.parametrize(("seconds", "text"), [(750, "12分30秒"), (600, "10分钟"), (45, "45秒")])
def test_durations_read_naturally_in_chinese(seconds: float, text: str) -> None:
    assert format_duration_zh(seconds) == text


@pytest.mark.parametrize(
    ("size", "short", "expected"),
    [
        ((1080, 1920), 720, (720, 1280)),
        ((1920, 1080), 720, (1280, 720)),
        ((640, 360), 720, (640, 360)),  # never upscaled
        ((641, 361), 720, (640, 360)),  # odd sizes made even
        ((1440, 1080), 720, (960, 720)),
    ],
)
def test_rendition_size(size: tuple[int, int], short: int, expected: tuple[int, int]) -> None:
    assert fit_short_side(*size, short) == expected


def test_plan_caps_frame_rate_and_picks_a_poster_time() -> None:
    plan = plan_encoding(
        parse(
            {
                **probe_json(duration="0.9"),
                "streams": [{**probe_json()["streams"][0], "avg_frame_rate": "60/1"}],
            }
        )
    )
    assert plan.fps == 30 and plan.keyframe_interval == 60
    assert plan.poster_time == pytest.approx(0.3)
    assert plan.renditions[0].name == "h264_720p"


def test_the_command_is_one_ffmpeg_run_that_cannot_be_redirected() -> None:
    plan = plan_encoding(source())
    args = build_command(plan, "/tmp/src", "/tmp/out", {"h264_720p": "/tmp/wm.png"})
    assert args[0] == "ffmpeg" and args.count("-filter_complex") == 1
    first_input = args.index("-i")
    assert args[first_input - 4 : first_input] == ["-f", "mov", "-protocol_whitelist", "file"]
    assert args[first_input + 1] == "file:/tmp/src"
    joined = " ".join(args)
    for option in (
        "+faststart",
        "-map_metadata -1",
        "-vcodec libx264",
        "-acodec aac",
        "-progress pipe:1",
        "/tmp/out/h264_720p.mp4",
        "/tmp/out/poster.jpg",
    ):
        assert option in joined


def test_silent_sources_get_a_silent_audio_track() -> None:
    args = build_command(plan_encoding(source(audio=False)), "/s", "/o", {"h264_720p": "/w.png"})
    assert any(a.startswith("anullsrc") for a in args)


def test_progress_reports_percent_and_time_left() -> None:
    reports: list[tuple[float, float | None]] = []
    tracker = ProgressTracker(
        duration=10.0, callback=lambda p, e: reports.append((p, e)), every=0.0
    )
    tracker.feed("frame=10\n")
    tracker.feed("out_time_us=5000000\n")
    tracker.feed("out_time_us=N/A\n")
    assert len(reports) == 1 and reports[0][0] == 50.0 and reports[0][1] is not None


def test_watermark_scales_with_the_frame() -> None:
    small = render_watermark(
        "中国梦·青春足迹", 12, 640, 360, "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
    )
    large = render_watermark(
        "中国梦·青春足迹", 12, 1920, 1080, "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
    )
    assert small.mode == "RGBA" and large.width > 2 * small.width
    assert small.getextrema()[3][1] > 0  # something is drawn


def test_watermark_survives_a_missing_font() -> None:
    image = render_watermark("中国梦·青春足迹", None, 640, 360, "/nonexistent.ttf")
    assert image.width > 0
