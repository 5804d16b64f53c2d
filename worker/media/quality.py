"""The technical quality report of an entry: warnings for organizers and the contestant.

Findings come from the audio pass (silences, clipping, loudness), from a small branch of the
one video run (black and frozen segments) and from the probe (length mismatch, low bitrate or
resolution). They are warnings, never refusals: the entry is processed all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from worker.media.audio_analysis import AudioAnalysis
from worker.media.metadata_log import read_frames, spans
from worker.media.probe import ProbeResult

# The video branch: this many frames a second, this wide, is plenty for the detectors.
QC_FPS, QC_WIDTH = 10, 160
BLACK_SECONDS, FREEZE_SECONDS = 1.0, 3.0
# Sound and picture whose lengths differ by more than this are worth a word.
MISMATCH_SECONDS = 1.0
QUIET_LUFS, LOUD_LUFS = -30.0, -10.0
LOW_SHORT_SIDE = 480
LOW_BITS_PER_PIXEL = 0.02  # H.264 at 1080p30 needs roughly 0.05 and up to look clean
EDGE = 0.5  # a segment this close to either end "opens" or "closes" the video
# A file can be made of a thousand black flashes; the report names the first few of a kind.
MAX_PER_KIND = 10


@dataclass(frozen=True)
class Finding:
    """One warning: its kind, where it is (seconds; None for the whole file) and a sentence."""

    kind: str
    start: float | None
    end: float | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def clock_zh(seconds: float) -> str:
    """0秒, 4.2秒, 1分12秒: a moment in the video, as a contestant reads it."""
    if seconds < 60:
        return f"{_num(seconds)}秒"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}分{secs}秒" if secs else f"{minutes}分"


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _where(start: float, end: float, duration: float, what: str) -> str:
    length = _num(end - start)
    if start <= EDGE and end >= duration - EDGE:
        return f"全片{what}"
    if start <= EDGE:
        return f"开头 {length} 秒{what}"
    if end >= duration - EDGE:
        return f"结尾 {length} 秒{what}"
    return f"第 {clock_zh(start)} 起有 {length} 秒{what}"


def segment_findings(
    kind: str,
    segments: list[tuple[float, float]],
    duration: float,
    what: str,
    describe: Callable[[float, float], str] | None = None,
) -> list[Finding]:
    """One finding a segment, the first MAX_PER_KIND of them, then one that counts the rest.

    `describe(start, end)` words a segment; by default "开头 3 秒{what}" and the like.
    """
    word = describe or (lambda start, end: _where(start, end, duration, what))
    found = [
        Finding(kind, round(start, 2), round(end, 2), word(start, end))
        for start, end in segments[:MAX_PER_KIND]
    ]
    rest = segments[MAX_PER_KIND:]
    if rest:
        start, end = rest[0][0], rest[-1][1]
        found.append(
            Finding(kind, round(start, 2), round(end, 2), f"此后另有 {len(rest)} 处{what}")
        )
    return found


def video_findings(metadata_path: str, duration: float) -> list[Finding]:
    """Black and frozen segments from the QC branch's metadata file."""
    frames = list(read_frames(metadata_path))
    black = spans(frames, "lavfi.black_start", "lavfi.black_end", duration)
    frozen = spans(
        frames, "lavfi.freezedetect.freeze_start", "lavfi.freezedetect.freeze_end", duration
    )
    # A black screen is frozen too; say only that it is black.
    frozen = [span for span in frozen if _overlap(span, black) < (span[1] - span[0]) / 2]
    return [
        *segment_findings("black", black, duration, "为黑屏"),
        *segment_findings("frozen", frozen, duration, "画面静止不动"),
    ]


def _overlap(span: tuple[float, float], others: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(span[1], b) - max(span[0], a)) for a, b in others)


def audio_findings(audio: AudioAnalysis | None, duration: float) -> list[Finding]:
    """Silences, clipping and the loudness before normalisation."""
    if audio is None:
        return [Finding("no_audio", None, None, "视频没有声音")]
    if audio.loudness.silent:
        return [Finding("silent", 0.0, round(duration, 2), "全片无声")]
    found = segment_findings("silence", audio.silences, duration, "无声")
    found += segment_findings(
        "clipped",
        audio.clipped,
        duration,
        "声音削波",
        lambda start, end: (
            f"第 {clock_zh(start)} 起约 {_num(end - start)} 秒声音削波（爆音），"
            "录音音量过大，建议降低音量后重新录制或导出"
        ),
    )
    lufs = audio.loudness.integrated
    if lufs < QUIET_LUFS:
        found.append(
            Finding(
                "quiet",
                None,
                None,
                f"原声音量偏小（{lufs:.1f} LUFS），已自动提升；底噪会一同变大",
            )
        )
    elif lufs > LOUD_LUFS:
        found.append(Finding("loud", None, None, f"原声音量偏大（{lufs:.1f} LUFS），已自动降低"))
    return found


def source_findings(source: ProbeResult) -> list[Finding]:
    """What the probe alone shows: length mismatch, low resolution, starved bitrate."""
    found = []
    video, audio = source.video_end, source.audio_end
    if source.has_audio and video and audio and abs(audio - video) > MISMATCH_SECONDS:
        longer, gap = ("声音", audio - video) if audio > video else ("画面", video - audio)
        shorter = "画面" if longer == "声音" else "声音"
        found.append(
            Finding(
                "length_mismatch",
                round(min(audio, video), 2),
                round(max(audio, video), 2),
                f"{longer}比{shorter}长 {_num(gap)} 秒，已按画面长度处理",
            )
        )
    short_side = min(source.width, source.height)
    if short_side < LOW_SHORT_SIDE:
        found.append(
            Finding(
                "low_resolution",
                None,
                None,
                f"分辨率偏低（{source.width}×{source.height}），建议上传 720p 或以上的原片",
            )
        )
    pixels_per_second = source.width * source.height * max(source.fps, 1.0)
    if source.video_bitrate and source.video_bitrate / pixels_per_second < LOW_BITS_PER_PIXEL:
        found.append(
            Finding(
                "low_bitrate",
                None,
                None,
                f"原片码率偏低（{source.video_bitrate / 1e6:.2f} Mbps），画面可能模糊或有色块，"
                "建议导出时选择更高画质",
            )
        )
    return found
