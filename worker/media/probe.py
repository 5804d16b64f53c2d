"""Probe an untrusted file with ffprobe and refuse what the pipeline must not touch."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from worker.media.limits import TOO_LARGE_FILE, TOO_LONG, MediaLimits
from worker.media.refusal import MediaRefused
from worker.media.subprocesses import SubprocessTimeout, run_bounded

# Demuxers we accept. ffprobe is told to use no other, so a playlist, a concat script or an
# image sequence named `.mp4` is never even opened by its real demuxer.
ALLOWED_DEMUXERS = (
    "mov",
    "mp4",
    "m4a",
    "3gp",
    "3g2",
    "mj2",
    "matroska",
    "webm",
    "avi",
    "flv",
    "mpegts",
    "asf",  # WMV, as Windows Movie Maker exports
)
ALLOWED_VIDEO_CODECS = {
    "h264",
    "hevc",
    "mpeg4",
    "vp8",
    "vp9",
    "av1",
    "mpeg2video",
    "mjpeg",
    "prores",
    "h263",
    "flv1",
    "wmv1",
    "wmv2",
    "wmv3",
    "vc1",
    "msmpeg4v3",
}
INTERLACED_ORDERS = {"tt", "bb", "tb", "bt"}
# PQ (HDR10, Dolby Vision base layers) and HLG: what phones record as "HDR video".
HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}
ALLOWED_AUDIO_CODECS = {
    "aac",
    "mp3",
    "opus",
    "vorbis",
    "ac3",
    "eac3",
    "pcm_s16le",
    "pcm_s16be",
    "pcm_s24le",
    "pcm_f32le",
    "amr_nb",
    "amr_wb",
    "alac",
    "flac",
    "mp2",
    "wmav1",
    "wmav2",
    "wmapro",
}


@dataclass(frozen=True)
class ProbeResult:
    """What the pipeline needs to know of a source, as displayed (rotation applied)."""

    container: str
    demuxer: str
    video_codec: str
    audio_codec: str | None
    width: int  # as displayed: pixel aspect and rotation applied
    height: int
    rotation: int
    duration: float
    fps: float
    has_audio: bool
    size_bytes: int = 0
    streams: int = 1
    pix_fmt: str = "yuv420p"
    interlaced: bool = False
    hdr: bool = False
    audio_channels: int = 0
    audio_sample_rate: int = 0
    square_pixels: bool = True
    colorspace: str = ""
    # When each stream ends, in seconds from the file's start (0: unknown). They can differ,
    # and a stream can start late (an edit list's empty edit).
    video_end: float = 0.0
    audio_end: float = 0.0
    video_bitrate: int = 0  # bits per second: the video stream's, else the whole file's
    # The streams accepted, by index in the file: every ffmpeg run decodes these and no
    # other (`[0:v]` would take the first video stream, which may be a cover picture).
    video_index: int = 0
    audio_index: int | None = None
    # The frames as decoded, before pixel aspect and rotation (what the decoder allocates).
    stored_width: int = 0
    stored_height: int = 0

    @property
    def length(self) -> float:
        """How long the outputs run: the picture's length (sound is cut or padded to it)."""
        return self.video_end if self.video_end > 0 else self.duration

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def probe(path: str, limits: MediaLimits, ffprobe: str = "ffprobe") -> ProbeResult:
    """Probe `path` and check it against `limits`; raise MediaRefused with a reason."""
    size = os.path.getsize(path)
    if size > limits.max_bytes:
        raise MediaRefused(
            "too_large_file",
            TOO_LARGE_FILE.format(
                size=f"{size / 1024**2:.0f}", limit=f"{limits.max_bytes / 1024**2:.0f}"
            ),
            f"file size {size} bytes exceeds {limits.max_bytes}",
        )
    args = [
        ffprobe,
        "-v",
        "error",
        "-hide_banner",
        "-format_whitelist",
        ",".join(ALLOWED_DEMUXERS),
        "-protocol_whitelist",
        "file",
        "-show_format",
        "-show_streams",
        "-of",
        "json",
        "file:" + path,
    ]
    try:
        result = run_bounded(args, timeout=limits.probe_timeout)
    except SubprocessTimeout as exc:
        raise MediaRefused(
            "probe_timeout",
            "分析视频文件超时，文件可能已损坏，请重新导出后上传",
            "probing the file timed out; it may be damaged",
        ) from exc
    if result.returncode != 0:
        raise MediaRefused(
            "not_video",
            "无法识别为视频文件，请上传 MP4、MOV 等常见格式的视频",
            "the file is not a video in a supported format",
        )
    data = json.loads(result.stdout or b"{}")
    return check(parse(data), limits)


def parse(data: dict[str, Any]) -> ProbeResult:
    """Turn ffprobe's JSON into a ProbeResult, refusing files with no usable video."""
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    video = _video_stream(streams)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None:
        raise MediaRefused(
            "no_video", "文件中没有视频画面，请上传视频文件", "the file has no video stream"
        )
    rotation = _rotation(video)
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    stored = (width, height)
    # Non-square pixels (anamorphic DV, some phones' slow-motion modes): display width.
    aspect = _sample_aspect(video)
    width = round(width * aspect)
    if rotation in (90, 270):
        width, height = height, width
    duration = _duration(fmt, video)
    demuxer = str(fmt.get("format_name", ""))
    hdr = str(video.get("color_transfer", "")) in HDR_TRANSFERS
    return ProbeResult(
        container=demuxer.split(",")[0],
        demuxer=demuxer,
        video_codec=str(video.get("codec_name", "")),
        audio_codec=str(audio.get("codec_name")) if audio else None,
        width=width,
        height=height,
        rotation=rotation,
        duration=duration,
        fps=_fps(video),
        has_audio=audio is not None,
        size_bytes=int(fmt.get("size") or 0),
        streams=len(streams),
        pix_fmt=str(video.get("pix_fmt", "")),
        interlaced=str(video.get("field_order", "progressive")) in INTERLACED_ORDERS,
        hdr=hdr,
        audio_channels=int(audio.get("channels") or 0) if audio else 0,
        audio_sample_rate=int(audio.get("sample_rate") or 0) if audio else 0,
        square_pixels=aspect == 1.0,
        colorspace=_colorspace(video, hdr),
        video_end=_stream_end(video, fmt),
        audio_end=_stream_end(audio, fmt) if audio else 0.0,
        video_bitrate=_int(video.get("bit_rate")) or _int(fmt.get("bit_rate")),
        stored_width=stored[0],
        stored_height=stored[1],
        video_index=_index(streams, video),
        audio_index=_index(streams, audio) if audio else None,
    )


# A still picture stored as a video stream: cover art (MP4 `covr`, Matroska attachments) or
# a thumbnail track. Never the picture to process, whatever its place in the file.
STILL_DISPOSITIONS = ("attached_pic", "timed_thumbnails")


def _video_stream(streams: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The video stream to process: the first moving one, preferring an allowed codec.

    A file may hold a still picture first (a cover, or a PNG stored as a one-frame track):
    the pipeline then decodes the real video behind it, by its index, and nothing else.
    """
    moving = [
        s
        for s in streams
        if s.get("codec_type") == "video"
        and not any((s.get("disposition") or {}).get(key) for key in STILL_DISPOSITIONS)
    ]
    allowed = [s for s in moving if s.get("codec_name") in ALLOWED_VIDEO_CODECS]
    chosen = allowed or moving
    return chosen[0] if chosen else None


def _index(streams: list[dict[str, Any]], stream: dict[str, Any]) -> int:
    """A stream's index in the file (ffprobe lists them in order)."""
    return _int(stream.get("index", streams.index(stream)))


def check(info: ProbeResult, limits: MediaLimits) -> ProbeResult:
    """Refuse a probed file that breaks an allowlist or a limit."""
    if info.video_codec not in ALLOWED_VIDEO_CODECS:
        raise MediaRefused(
            "video_codec",
            f"不支持的视频编码 {info.video_codec}，请导出为 H.264 MP4",
            f"unsupported video codec {info.video_codec}",
        )
    if info.audio_codec is not None and info.audio_codec not in ALLOWED_AUDIO_CODECS:
        raise MediaRefused(
            "audio_codec",
            f"不支持的音频编码 {info.audio_codec}，请导出为 AAC 音频",
            f"unsupported audio codec {info.audio_codec}",
        )
    if info.streams > limits.max_streams:
        raise MediaRefused(
            "too_many_streams",
            f"文件包含 {info.streams} 路音视频流，超过上限 {limits.max_streams} 路，请重新导出",
            f"{info.streams} streams exceed {limits.max_streams}",
        )
    if info.fps > limits.max_fps:
        raise MediaRefused(
            "too_high_fps",
            f"视频帧率 {info.fps:.0f} 帧/秒，超过上限 {limits.max_fps:.0f} 帧/秒，请以正常速度导出",
            f"frame rate {info.fps} exceeds {limits.max_fps}",
        )
    if info.width <= 0 or info.height <= 0:
        raise MediaRefused(
            "no_size",
            "无法读取视频画面尺寸，文件可能已损坏",
            "the video has no readable frame size",
        )
    # As displayed, and as decoded: a narrow pixel aspect must not hide a wide stored frame.
    width, height = max((info.width, info.height), (info.stored_width, info.stored_height), key=max)
    if max(width, height) > limits.max_dimension:
        raise MediaRefused(
            "too_large_frame",
            f"视频分辨率 {width}×{height} 超过上限 {limits.max_dimension} 像素",
            f"frame size {width}x{height} exceeds {limits.max_dimension} pixels",
        )
    # The outputs run as long as the picture: a stream offset must not make them longer.
    longest = max(info.duration, info.length)
    if longest > limits.max_duration:
        raise MediaRefused(
            "too_long",
            TOO_LONG.format(
                duration=format_duration_zh(longest), limit=format_duration_zh(limits.max_duration)
            ),
            f"duration {longest:.1f} s exceeds {limits.max_duration:.0f} s",
        )
    if min(info.duration, info.length) < limits.min_duration:
        raise MediaRefused(
            "too_short",
            "视频时长过短或无法读取时长，请检查文件",
            f"duration {info.duration:.2f} s is below {limits.min_duration} s",
        )
    return info


def format_duration_zh(seconds: float) -> str:
    """12分30秒, 10分钟, 45秒."""
    total = round(seconds)
    minutes, secs = divmod(total, 60)
    if minutes and secs:
        return f"{minutes}分{secs}秒"
    if minutes:
        return f"{minutes}分钟"
    return f"{secs}秒"


def _rotation(video: dict[str, Any]) -> int:
    """Degrees counterclockwise that a player turns the stored frames (ffprobe's sense).

    Phones record upright video as landscape frames plus a display matrix; ffprobe reports
    it as side data, older files as a clockwise `rotate` tag.
    """
    angle: float | None = None
    for side in video.get("side_data_list") or []:
        if "rotation" in side:
            angle = float(side["rotation"])
    tag = (video.get("tags") or {}).get("rotate")
    if angle is None and tag:
        angle = -float(tag)
    return int(round(angle or 0)) % 360 // 90 * 90


def _colorspace(video: dict[str, Any], hdr: bool) -> str:
    """The source's YUV matrix, as the scale filter names it."""
    if hdr:
        return "bt709"  # after tone mapping, whatever the source said
    tagged = str(video.get("color_space", ""))
    if tagged in {"bt709", "bt470bg", "smpte170m", "fcc", "smpte240m"}:
        return tagged
    # Untagged: HD video is BT.709 by convention, SD video BT.601 (smpte170m).
    height = min(int(video.get("width") or 0), int(video.get("height") or 0))
    return "bt709" if height >= 720 else "smpte170m"


def _sample_aspect(video: dict[str, Any]) -> float:
    raw = str(video.get("sample_aspect_ratio", "1:1"))
    num, _, den = raw.partition(":")
    try:
        ratio = Fraction(int(num), int(den))
    except (ValueError, ZeroDivisionError):
        return 1.0
    # 0:1 means "unknown"; absurd ratios are treated as square rather than trusted.
    return float(ratio) if Fraction(1, 4) <= ratio <= 4 else 1.0


def _duration(fmt: dict[str, Any], video: dict[str, Any]) -> float:
    for value in (fmt.get("duration"), video.get("duration")):
        try:
            if value is not None and float(value) > 0:
                return float(value)
        except ValueError:
            continue
    return 0.0


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _stream_end(stream: dict[str, Any], fmt: dict[str, Any]) -> float:
    """When a stream ends, from the file's start: its start offset plus its own length."""
    length = _stream_duration(stream)
    if not length:
        return 0.0
    try:
        offset = float(stream.get("start_time") or 0) - float(fmt.get("start_time") or 0)
    except ValueError:
        offset = 0.0
    return max(0.0, offset) + length


def _stream_duration(stream: dict[str, Any]) -> float:
    """A stream's length: its `duration`, or Matroska's DURATION tag (HH:MM:SS.fraction)."""
    try:
        value = float(stream.get("duration") or 0)
    except ValueError:
        value = 0.0
    if value > 0:
        return value
    tag = str((stream.get("tags") or {}).get("DURATION", ""))
    hours, _, rest = tag.partition(":")
    minutes, _, secs = rest.partition(":")
    try:
        return int(hours) * 3600 + int(minutes) * 60 + float(secs)
    except ValueError:
        return 0.0


def _fps(video: dict[str, Any]) -> float:
    for key in ("avg_frame_rate", "r_frame_rate"):
        try:
            rate = Fraction(str(video.get(key, "0/1")))
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return round(float(rate), 3)
    return 0.0
