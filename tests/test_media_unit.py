"""Media rules without running ffmpeg: probe parsing, limits, the plan and the command."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from tests.media import image_size
from worker.media.command import build_command
from worker.media.ffmpeg_run import ProgressTracker
from worker.media.limits import MediaLimits
from worker.media.plan import fit_short_side, ladder_for, plan_encoding, plan_storyboard
from worker.media.poster import choose_poster, write_posters
from worker.media.probe import ProbeResult, check, format_duration_zh, parse
from worker.media.refusal import MediaRefused
from worker.media.storyboard import storyboard_vtt
from worker.media.watermark import WatermarkStyle, overlay_position, render_watermark


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
    [(-90, (1080, 1920, 270)), (90, (1080, 1920, 90)), (180, (1920, 1080, 180))],
)
def test_display_rotation_gives_the_upright_size(rotation: float, expected: tuple) -> None:  # type: ignore[type-arg]
    info = source(rotation=rotation)
    assert (info.width, info.height, info.rotation) == expected


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ({"disposition": {"attached_pic": 1}}, 1),  # cover art
        ({"disposition": {"timed_thumbnails": 1}}, 1),  # a thumbnail track
        ({"codec_name": "png"}, 1),  # a still stored as a track: prefer an allowed codec
        ({}, 0),
    ],
)
def test_the_probe_takes_the_real_video_and_records_its_index(
    first: dict[str, Any], expected: int
) -> None:
    data = probe_json()
    cover = {**data["streams"][0], "width": 8000, "height": 8000, **first}
    data["streams"] = [cover, *data["streams"]]
    info = parse(data)
    assert (info.video_index, info.audio_index) == (expected, 2)
    assert (info.width, info.height) == ((1920, 1080) if expected else (8000, 8000))


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


def test_a_narrow_pixel_aspect_cannot_hide_a_wide_stored_frame() -> None:
    data = probe_json(width=8192, height=4096)
    data["streams"][0]["sample_aspect_ratio"] = "1:2"  # displayed 4096x4096
    with pytest.raises(MediaRefused) as caught:
        check(parse(data), MediaLimits())
    assert caught.value.code == "too_large_frame" and "8192×4096" in caught.value.reason_zh


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


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), [1080, 720, 480]),
        ((1280, 720), [720, 480]),
        ((720, 1280), [720, 480]),
        ((854, 480), [480]),
        ((320, 240), [240]),  # smaller than every rung: once, at its own size
    ],
)
def test_the_ladder_never_upscales_and_always_has_the_smallest(
    size: tuple[int, int], expected: list[int]
) -> None:
    assert ladder_for(*size) == expected


def test_plan_caps_frame_rate_and_spreads_poster_candidates() -> None:
    fast = {**probe_json()["streams"][0], "avg_frame_rate": "60/1"}
    plan = plan_encoding(parse({**probe_json(duration="14"), "streams": [fast]}))
    assert plan.fps == 30 and plan.keyframe_interval == 60
    assert plan.poster_interval == pytest.approx(2.0)
    assert [r.name for r in plan.renditions] == ["h264_1080p", "h264_720p", "h264_480p"]
    assert [r.maxrate_k for r in plan.renditions] == [5000, 2800, 1400]


@pytest.mark.parametrize(
    ("size", "duration", "tile", "count", "interval"),
    [
        ((1080, 1920), 12.0, (90, 160), 12, 1.0),  # vertical stays vertical
        ((1920, 1080), 600.0, (160, 90), 100, 6.0),
        ((640, 360), 0.5, (160, 90), 1, 1.0),
    ],
)
def test_storyboard_plan(
    size: tuple[int, int], duration: float, tile: tuple[int, int], count: int, interval: float
) -> None:
    board = plan_storyboard(source(width=size[0], height=size[1], duration=str(duration)))
    assert (board.tile_width, board.tile_height) == tile
    assert (board.count, board.interval) == (count, interval)
    assert board.columns * board.rows >= board.count


def test_storyboard_vtt_points_at_each_tile() -> None:
    board = plan_storyboard(source(width=1080, height=1920, duration="12.5"))
    vtt = storyboard_vtt(board, 12.5)
    assert vtt.startswith("WEBVTT")
    assert "00:00:00.000 --> 00:00:01.000\nstoryboard.jpg#xywh=0,0,90,160" in vtt
    assert "storyboard.jpg#xywh=90,160,90,160" in vtt  # the 12th tile: row 2, column 2
    assert vtt.rstrip().endswith("#xywh=180,160,90,160")  # the 13th, for the last half second
    assert "00:00:12.000 --> 00:00:12.500" in vtt


def test_the_command_is_one_ffmpeg_run_that_cannot_be_redirected() -> None:
    plan = plan_encoding(source())
    marks = {r.name: f"/tmp/{r.name}.png" for r in plan.renditions}
    args = build_command(plan, "/tmp/src", "/tmp/out", marks)
    assert args[0] == "ffmpeg" and args.count("-filter_complex") == 1
    first_input = args.index("-i")
    assert args[first_input - 2 : first_input] == ["-protocol_whitelist", "file"]
    assert args[1:3] == ["-f", "mov"]
    assert args[first_input + 1] == "file:/tmp/src"
    assert args.count("file:/tmp/src") == 1  # decoded once
    joined = " ".join(args)
    for option in (
        "+faststart",
        "-map_metadata -1",
        "-vcodec libx264",
        "-acodec aac",
        "-progress pipe:1",
        "/tmp/out/h264_1080p.mp4",
        "/tmp/out/h264_480p.mp4",
        "/tmp/out/candidate_%02d.jpg",
        "/tmp/out/storyboard.jpg",
        "-colorspace bt709",
    ):
        assert option in joined, option
    assert "zscale" not in joined and "bwdif" not in joined
    graph = args[args.index("-filter_complex") + 1]
    # The accepted streams by index, each decoded once.
    assert graph.count("[0:0]") == 1 and graph.count("[0:1]") == 1 and "[0:v]" not in graph
    # A cascade: the guard scales to the full-size rung first (a no-op for frames of the
    # probed size); each smaller rung scales the one above.
    assert graph.startswith("[0:0]scale=if(") and "scale=1920:1080" not in graph
    assert "scale=1280:720" in graph and "scale=854:480" in graph


def test_hdr_and_interlaced_sources_get_tone_mapped_and_deinterlaced() -> None:
    stream = {**probe_json()["streams"][0], "color_transfer": "smpte2084", "field_order": "tt"}
    plan = plan_encoding(parse({**probe_json(), "streams": [stream]}))
    assert plan.source.hdr and plan.source.interlaced
    joined = " ".join(build_command(plan, "/s", "/o", {r.name: "/w.png" for r in plan.renditions}))
    assert "tonemap=desat=0:tonemap=hable" in joined and "bwdif" in joined


def test_silent_sources_get_a_silent_audio_track() -> None:
    plan = plan_encoding(source(audio=False))
    args = build_command(plan, "/s", "/o", {r.name: "/w.png" for r in plan.renditions})
    graph = args[args.index("-filter_complex") + 1]
    # Made inside the graph and cut to the picture's length, not read as an endless input.
    assert "anullsrc=channel_layout=stereo:sample_rate=48000" in graph
    assert f"atrim=end={plan.duration:.3f}" in graph
    assert "lavfi" not in args


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ("top-left", ("10", "10")),
        ("bottom-right", ("W-w-10", "H-h-10")),
        ("top-right", ("W-w-10", "10")),
        ("bottom-left", ("10", "H-h-10")),
    ],
)
def test_watermark_corner(position: str, expected: tuple[str, str]) -> None:
    assert overlay_position(position, 10) == expected


def test_progress_reports_percent_and_time_left() -> None:
    reports: list[tuple[float, float | None]] = []
    tracker = ProgressTracker(
        duration=10.0, callback=lambda p, e: reports.append((p, e)), every=0.0
    )
    tracker.feed("frame=10\n")
    tracker.feed("out_time_us=5000000\n")
    tracker.feed("out_time_us=N/A\n")
    assert len(reports) == 1 and reports[0][0] == 50.0 and reports[0][1] is not None


FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def test_watermark_scales_with_the_frame() -> None:
    style = WatermarkStyle("中国梦·青春足迹", FONT)
    small = render_watermark(style, 12, 640, 360)
    large = render_watermark(style, 12, 1920, 1080)
    assert small.mode == "RGBA" and large.width > 2 * small.width
    assert small.getextrema()[3][1] > 0  # something is drawn


def test_watermark_draws_the_logo_with_the_opacity(tmp_path) -> None:  # type: ignore[no-untyped-def]
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (200, 100), (200, 0, 0, 255)).save(logo)
    plain = render_watermark(WatermarkStyle("青春", FONT, opacity=0.5), 1, 1280, 720)
    marked = render_watermark(WatermarkStyle("青春", FONT, str(logo), opacity=0.5), 1, 1280, 720)
    assert marked.width > plain.width
    red = [p for p in marked.convert("RGBA").get_flattened_data() if p[0] > 150 and p[1] < 50]
    assert red and max(p[3] for p in red) == 128


@pytest.mark.parametrize(
    ("position", "opacity"), [("middle", 0.5), ("top-left", 0.0), ("top-left", 1.5)]
)
def test_watermark_style_is_checked(position: str, opacity: float) -> None:
    with pytest.raises(ValueError):
        WatermarkStyle("t", FONT, position=position, opacity=opacity)


def test_watermark_survives_a_missing_font() -> None:
    image = render_watermark(WatermarkStyle("中国梦·青春足迹", "/nonexistent.ttf"), None, 640, 360)
    assert image.width > 0


def test_poster_skips_black_and_blurry_frames(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PIL import ImageDraw, ImageFilter

    black = tmp_path / "candidate_00.jpg"
    Image.new("RGB", (320, 180), (0, 0, 0)).save(black)
    sharp_img = Image.new("RGB", (320, 180), (120, 120, 120))
    draw = ImageDraw.Draw(sharp_img)
    for x in range(0, 320, 8):
        draw.line([(x, 0), (x, 180)], fill=(250, 250, 250), width=2)
    sharp = tmp_path / "candidate_01.jpg"
    sharp_img.save(sharp)
    blurry = tmp_path / "candidate_02.jpg"
    sharp_img.filter(ImageFilter.GaussianBlur(6)).save(blurry)
    assert choose_poster([str(black), str(blurry), str(sharp)]) == str(sharp)
    names = write_posters([str(black), str(blurry), str(sharp)], str(tmp_path))
    assert names == ["poster_large.jpg", "poster_medium.jpg", "poster_small.jpg"]
    sizes = [image_size(tmp_path / n) for n in names]
    assert sizes == [(320, 180), (320, 180), (320, 180)]
    assert not list(tmp_path.glob("candidate_*"))


def test_transcode_time_limit_grows_with_duration_but_stays_inside_the_broker_timeout() -> None:
    limits = MediaLimits(timeout_factor=10, consumer_timeout=1800)
    assert limits.transcode_timeout(30) == 360
    assert limits.transcode_timeout(600) == 1500


def test_streams_end_where_their_offset_and_length_say() -> None:
    data = probe_json(duration="5.5")
    video, audio = data["streams"]
    video.update(start_time="1.5", duration="4.0")
    audio.update(start_time="0", duration="5.5")
    info = parse(data)
    assert (info.video_end, info.audio_end, info.length) == (5.5, 5.5, 5.5)
    # Matroska keeps each stream's length in a DURATION tag.
    video.pop("duration")
    video.update(start_time="0", tags={"DURATION": "00:01:02.500000000"})
    assert parse(data).video_end == 62.5


def test_a_late_picture_cannot_make_the_outputs_longer_than_the_limit() -> None:
    # A tiny file whose video track claims to start an hour in: outputs would be an hour long.
    data = probe_json(duration="5")
    data["streams"][0].update(start_time="3600", duration="5")
    data["format"]["start_time"] = "0"
    with pytest.raises(MediaRefused) as caught:
        check(parse(data), MediaLimits())
    assert caught.value.code == "too_long"
