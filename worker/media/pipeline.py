"""The whole media pipeline on local files: probe, plan, watermark, one ffmpeg run.

The worker task and `footprints media process` both call `process_file`; neither the queue
nor S3 is needed here.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from storage.settings import Settings
from worker.media.command import build_command
from worker.media.ffmpeg_run import ProgressCallback, run_ffmpeg
from worker.media.limits import MediaLimits
from worker.media.plan import EncodingPlan, plan_encoding
from worker.media.probe import ProbeResult, probe
from worker.media.watermark import render_watermark


@dataclass(frozen=True)
class RenditionFile:
    file: str
    width: int
    height: int
    bitrate: int
    duration: float


@dataclass(frozen=True)
class Manifest:
    """What one run produced, by file name inside its output folder."""

    source: ProbeResult
    renditions: list[RenditionFile]
    poster: list[str]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["source"] = self.source.as_dict()
        return data

    def write(self, out_dir: str) -> str:
        path = os.path.join(out_dir, "manifest.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.as_dict(), fh, ensure_ascii=False, indent=2)
        return path


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
    limits = MediaLimits.from_settings(settings)
    info = probe(source_path, limits, settings.ffprobe_bin)
    plan = plan_encoding(info, settings.rendition_short_side)
    watermarks = _write_watermarks(plan, out_dir, settings, entry_number)
    args = build_command(plan, source_path, out_dir, watermarks, settings.ffmpeg_bin)
    run_ffmpeg(args, info.duration, limits.transcode_timeout(info.duration), on_progress)
    for path in watermarks.values():
        os.remove(path)
    renditions = [
        RenditionFile(
            file=r.file_name,
            width=r.width,
            height=r.height,
            bitrate=_bitrate(os.path.join(out_dir, r.file_name), info.duration),
            duration=info.duration,
        )
        for r in plan.renditions
    ]
    return Manifest(source=info, renditions=renditions, poster=[plan.poster_file])


def _write_watermarks(
    plan: EncodingPlan, out_dir: str, settings: Settings, entry_number: int | None
) -> dict[str, str]:
    paths = {}
    for rendition in plan.renditions:
        image = render_watermark(
            settings.watermark_text,
            entry_number,
            rendition.width,
            rendition.height,
            settings.watermark_font,
        )
        path = os.path.join(out_dir, f"watermark_{rendition.name}.png")
        image.save(path)
        paths[rendition.name] = path
    return paths


def _bitrate(path: str, duration: float) -> int:
    """Average bits per second of a file."""
    return int(os.path.getsize(path) * 8 / duration) if duration > 0 else 0
