"""The fast audio-only pass before the video run: loudness (EBU R128), silences and clipping.

One ffmpeg run decodes only the sound: `loudnorm` measures integrated loudness, loudness range
and true peak, `silencedetect` marks silences, and `astats` over 0.1 s windows finds where the
recording hit full scale.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import ffmpeg

from worker.media.metadata_log import read_frames, spans
from worker.media.probe import ProbeResult
from worker.media.subprocesses import SubprocessTimeout, run_bounded

# Quieter than this for SILENCE_SECONDS is a silence (phone noise floors sit near -60 dBFS).
SILENCE_DB, SILENCE_SECONDS = -50, 3.0
WINDOW_SAMPLES = 4800  # 0.1 s at 48 kHz
# A window whose sample peak reaches this is at full scale; a run of them is clipping.
CLIP_DB = -0.1
CLIP_MIN_WINDOWS, CLIP_MERGE_GAP = 3, 1.0
# Below this integrated loudness a source counts as silent and is never amplified.
SILENT_LUFS = -60.0


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness (LUFS), loudness range (LU), true peak (dBTP), gate threshold."""

    integrated: float
    true_peak: float
    lra: float
    threshold: float

    @property
    def silent(self) -> bool:
        return self.integrated <= SILENT_LUFS


@dataclass(frozen=True)
class AudioAnalysis:
    loudness: Loudness
    silences: list[tuple[float, float]] = field(default_factory=list)
    clipped: list[tuple[float, float]] = field(default_factory=list)


class AudioAnalysisFailed(RuntimeError):
    """The audio pass could not read the sound."""


def _sound(source: ProbeResult, source_path: str) -> Any:
    """The audio stream the probe accepted, at 48 kHz (nothing else is decoded)."""
    if source.audio_index is None:
        raise AudioAnalysisFailed("the source has no audio stream")
    demuxer = source.demuxer.split(",")[0]
    found = ffmpeg.input("file:" + source_path, f=demuxer, protocol_whitelist="file")
    # By its index, as the video run takes it: "the first audio stream" is the demuxer's say.
    return found[str(source.audio_index)].filter("aresample", 48000)


def _command(sound: Any, ffmpeg_bin: str) -> list[str]:
    """Run `sound` into loudnorm's measurement and nowhere else."""
    graph = ffmpeg.output(sound.filter("loudnorm", print_format="json"), os.devnull, f="null")
    # loudnorm prints its measurement at the info level.
    graph = graph.global_args("-hide_banner", "-nostdin", "-nostats", "-loglevel", "info")
    return list(ffmpeg.compile(graph, cmd=ffmpeg_bin, overwrite_output=True))


def analysis_command(
    source: ProbeResult, source_path: str, metadata_path: str, ffmpeg_bin: str = "ffmpeg"
) -> list[str]:
    """ffmpeg's arguments for the audio pass: silences, full-scale windows, loudness."""
    sound = (
        _sound(source, source_path)
        .filter("silencedetect", noise=f"{SILENCE_DB}dB", d=SILENCE_SECONDS)
        .filter("asetnsamples", n=WINDOW_SAMPLES, p=0)
        .filter(
            "astats",
            metadata=1,
            reset=1,
            measure_perchannel="none",
            measure_overall="Peak_level",
        )
        .filter("ametadata", mode="print", file=metadata_path)
    )
    return _command(sound, ffmpeg_bin)


def _measure(args: list[str], timeout: float) -> Loudness:
    try:
        result = run_bounded(args, timeout=timeout)
    except SubprocessTimeout as exc:
        raise AudioAnalysisFailed(str(exc)) from exc
    if result.returncode != 0:
        tail = result.stderr[-800:].decode("utf-8", "replace")
        raise AudioAnalysisFailed(f"ffmpeg exited with {result.returncode}: {tail}")
    return parse_loudnorm(result.stderr.decode("utf-8", "replace"))


def analyse_audio(
    source: ProbeResult, source_path: str, work_dir: str, timeout: float, ffmpeg_bin: str
) -> AudioAnalysis:
    """Measure the source's sound; raise AudioAnalysisFailed when ffmpeg cannot read it."""
    metadata_path = os.path.join(work_dir, "audio_metadata.txt")
    try:
        args = analysis_command(source, source_path, metadata_path, ffmpeg_bin)
        loudness = _measure(args, timeout)
        frames = list(read_frames(metadata_path))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(metadata_path)
    end = source.audio_end or source.duration
    return AudioAnalysis(
        loudness=loudness,
        silences=spans(frames, "lavfi.silence_start", "lavfi.silence_end", end),
        clipped=clipped_spans(frames),
    )


def loudness_after(
    source: ProbeResult,
    source_path: str,
    filters: list[tuple[str, dict[str, Any]]],
    timeout: float,
    ffmpeg_bin: str,
) -> Loudness:
    """The loudness of the source's sound once `filters` have been applied to it."""
    sound = _sound(source, source_path)
    for name, options in filters:
        sound = sound.filter(name, **options)
    return _measure(_command(sound, ffmpeg_bin), timeout)


def parse_loudnorm(stderr: str) -> Loudness:
    """The measurement from loudnorm's JSON block at the end of ffmpeg's log."""
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr)
    if match is None:
        raise AudioAnalysisFailed("loudnorm printed no measurement")
    data = json.loads(match.group(0))
    return Loudness(
        integrated=_number(data["input_i"]),
        true_peak=_number(data["input_tp"]),
        lra=_number(data["input_lra"]),
        threshold=_number(data["input_thresh"]),
    )


def _number(raw: str) -> float:
    # Digital silence measures as "-inf"; keep it a finite, very low number.
    value = float(raw)
    return max(value, -99.0) if value == value else -99.0


def clipped_spans(frames: list[tuple[float, dict[str, str]]]) -> list[tuple[float, float]]:
    """Runs of windows at full scale: at least CLIP_MIN_WINDOWS, gaps under CLIP_MERGE_GAP."""
    window = WINDOW_SAMPLES / 48000
    hot = [
        t
        for t, values in frames
        if float(values.get("lavfi.astats.Overall.Peak_level", "-inf")) >= CLIP_DB
    ]
    runs: list[list[float]] = []
    for t in hot:
        if runs and t - runs[-1][-1] <= CLIP_MERGE_GAP:
            runs[-1].append(t)
        else:
            runs.append([t])
    return [(r[0], r[-1] + window) for r in runs if len(r) >= CLIP_MIN_WINDOWS]
