"""The whole media pipeline on local files: probe, plan, watermark, one ffmpeg run, posters.

The worker task and `footprints media process` both call `process_file`; neither the queue
nor S3 is needed here.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from storage.settings import Settings
from worker.media.audio_analysis import (
    AudioAnalysisFailed,
    analyse_audio,
    loudness_after,
)
from worker.media.command import build_command, oversized_frame
from worker.media.ffmpeg_run import FfmpegRun, FfmpegStopped, ProgressCallback, run_ffmpeg
from worker.media.limits import MediaLimits
from worker.media.loudness import Normalisation, correct_limited, plan_normalisation
from worker.media.plan import EncodingPlan, plan_encoding
from worker.media.poster import write_posters
from worker.media.probe import ProbeResult, format_duration_zh, probe
from worker.media.quality import Finding, audio_findings, source_findings, video_findings
from worker.media.refusal import MediaRefused
from worker.media.storyboard import storyboard_vtt
from worker.media.watermark import WatermarkStyle, render_watermark

log = logging.getLogger(__name__)
# A run must write at least this share of the announced duration to count as complete.
COMPLETE_SHARE = 0.9


@dataclass(frozen=True)
class RenditionFile:
    file: str
    width: int
    height: int
    bitrate: int


@dataclass(frozen=True)
class StoryboardFiles:
    image: str
    vtt: str
    interval: float
    tile_width: int
    tile_height: int


@dataclass(frozen=True)
class Manifest:
    """What one run produced, by file name inside its output folder."""

    source: ProbeResult
    renditions: list[RenditionFile]
    poster: list[str]  # large, medium, small
    storyboard: StoryboardFiles
    loudness: Normalisation | None = None  # None: the source has no sound
    qc: list[Finding] = field(default_factory=list)
    run: FfmpegRun | None = None  # what the video run cost (peak memory, time)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, out_dir: str) -> str:
        path = os.path.join(out_dir, "manifest.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.as_dict(), fh, ensure_ascii=False, indent=2)
        return path


def watermark_style(settings: Settings) -> WatermarkStyle:
    """The watermark's look, from settings."""
    return WatermarkStyle(
        text=settings.watermark_text,
        font_path=settings.watermark_font,
        logo_path=settings.watermark_logo,
        position=settings.watermark_position,
        opacity=settings.watermark_opacity,
    )


def probe_file(path: str, settings: Settings) -> ProbeResult:
    """Probe and check a source; raise MediaRefused with a reason when it must be refused."""
    return probe(path, MediaLimits.from_settings(settings), settings.ffprobe_bin)


def plan_for(
    info: ProbeResult, settings: Settings, normalisation: Normalisation | None = None
) -> EncodingPlan:
    """The encoding plan for a probed source under `settings`."""
    return plan_encoding(
        info, settings.ladder, settings.storyboard_max_tiles, normalisation, settings.max_dimension
    )


def sound_for(
    info: ProbeResult, source_path: str, work_dir: str, settings: Settings
) -> tuple[Normalisation | None, list[Finding]]:
    """The audio pass and what follows from it: how to normalise, and the sound's findings."""
    if not info.has_audio:
        return None, audio_findings(None, info.length)
    timeout = settings.probe_timeout_seconds + info.duration
    try:
        audio = analyse_audio(info, source_path, work_dir, timeout, settings.ffmpeg_bin)
        normalisation = correct_limited(
            plan_normalisation(
                audio.loudness, settings.loudness_target_lufs, settings.loudness_true_peak_db
            ),
            lambda filters: loudness_after(
                info, source_path, filters, timeout, settings.ffmpeg_bin
            ),
        )
    except AudioAnalysisFailed as exc:
        # The video run decodes the sound again, and fails clearly if it truly cannot.
        log.warning("audio pass failed, sound left as it is: %s", exc)
        return None, [Finding("audio_unreadable", None, None, "声音无法分析，未做音量统一")]
    return normalisation, audio_findings(audio, info.length)


def command_for(
    plan: EncodingPlan, source_path: str, out_dir: str, settings: Settings, entry_number: int | None
) -> list[str]:
    """Write the watermark images into `out_dir` and return the ffmpeg command of `plan`."""
    style = watermark_style(settings)
    watermarks = {}
    for rendition in plan.renditions:
        path = os.path.join(out_dir, f"watermark_{rendition.name}.png")
        render_watermark(style, entry_number, rendition.width, rendition.height).save(path)
        watermarks[rendition.name] = path
    return build_command(
        plan, source_path, out_dir, watermarks, style.position, settings.ffmpeg_bin
    )


def process_file(
    source_path: str,
    out_dir: str,
    settings: Settings,
    entry_number: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Manifest:
    """Turn the file at `source_path` into web assets in `out_dir`.

    Raises MediaRefused for a file that must not be processed.
    """
    info = probe_file(source_path, settings)
    normalisation, sound_findings = sound_for(info, source_path, out_dir, settings)
    plan = plan_for(info, settings, normalisation)
    limits = MediaLimits.from_settings(settings)
    args = command_for(plan, source_path, out_dir, settings, entry_number)
    try:
        run = run_ffmpeg(
            args,
            plan.duration,
            limits.transcode_timeout(info.duration),
            on_progress,
            settings.ffmpeg_memory_limit_mb * 1024**2,
            stop_on=oversized_frame(plan),
        )
    except FfmpegStopped as exc:
        raise frame_grew(exc, plan.max_dimension) from exc
    # Pictures, not sound, tell how much could be read: the sound is padded to the length.
    pictures = run.frames / plan.fps if run.frames else run.encoded
    if pictures < plan.duration * COMPLETE_SHARE - 0.5:
        # The index promised more than the file holds: cut off while recording or copying.
        raise MediaRefused(
            "incomplete",
            f"视频文件不完整：只能读出 {format_duration_zh(pictures)}，文件标称 "
            f"{format_duration_zh(plan.duration)}。可能是上传或导出中断，请重新导出后上传",
            f"only {pictures:.1f} s of the {plan.duration:.1f} s announced could be decoded",
        )
    for path in glob.glob(os.path.join(out_dir, "watermark_*.png")):
        os.remove(path)
    qc_path = os.path.join(out_dir, plan.qc_metadata_file)
    findings = video_findings(qc_path, plan.duration) + sound_findings + source_findings(info)
    with contextlib.suppress(FileNotFoundError):
        os.remove(qc_path)
    posters = write_posters(sorted(glob.glob(os.path.join(out_dir, "candidate_*.jpg"))), out_dir)
    board = plan.storyboard
    with open(os.path.join(out_dir, board.vtt_file), "w", encoding="utf-8") as fh:
        fh.write(storyboard_vtt(board, plan.duration))
    return Manifest(
        source=info,
        renditions=[
            RenditionFile(
                file=r.file_name,
                width=r.width,
                height=r.height,
                bitrate=_bitrate(os.path.join(out_dir, r.file_name), plan.duration),
            )
            for r in plan.renditions
        ],
        poster=posters,
        storyboard=StoryboardFiles(
            board.image_file, board.vtt_file, board.interval, board.tile_width, board.tile_height
        ),
        loudness=plan.normalisation,
        qc=sorted(findings, key=lambda f: (f.start is None, f.start or 0.0)),
        run=run,
    )


def frame_grew(stopped: FfmpegStopped, limit: int) -> MediaRefused:
    """The refusal of a stream whose frames grew past `limit` pixels after the first ones."""
    width, height = stopped.match.group("width"), stopped.match.group("height")
    size_zh = f"（{int(width)}×{int(height)}）" if width and height else ""
    size_en = f"{int(width)}x{int(height)}" if width and height else "larger"
    return MediaRefused(
        "frame_size_changed",
        f"视频画面尺寸在中途变大{size_zh}，超过上限 {limit} 像素；"
        "请用剪辑软件以统一的分辨率重新导出后上传",
        f"a later frame ({size_en}) exceeds {limit} pixels; the probe saw smaller ones",
    )


def _bitrate(path: str, duration: float) -> int:
    """Average bits per second of a file."""
    return int(os.path.getsize(path) * 8 / duration) if duration > 0 else 0
