"""The single ffmpeg command of a plan, built with ffmpeg-python.

The source is decoded once; a split filter feeds every rendition, the poster candidates and
the storyboard sprite sheet.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from typing import Any

import ffmpeg

from worker.media.graph import fan_out, image_in_graph, source_filter
from worker.media.plan import AUDIO_BITRATE, CRF, EncodingPlan, Rendition
from worker.media.quality import BLACK_SECONDS, FREEZE_SECONDS, QC_FPS, QC_WIDTH
from worker.media.watermark import margin_for, overlay_position

# PQ/HLG to SDR: linearise, map primaries to BT.709, tone-map, then back to BT.709 video.
TONEMAP = (
    ("zscale", {"t": "linear", "npl": 100}),
    ("format", {"pix_fmts": "gbrpf32le"}),
    ("zscale", {"p": "bt709"}),
    ("tonemap", {"tonemap": "hable", "desat": 0}),
    ("zscale", {"t": "bt709", "m": "bt709", "r": "tv"}),
)
BT709 = {"colorspace": "bt709", "color_primaries": "bt709", "color_trc": "bt709"}


def oversized_frame(plan: EncodingPlan) -> re.Pattern[bytes]:
    """What ffmpeg prints when a frame of the accepted stream grows past MAX_DIMENSION.

    Either its decoder refuses to allocate more pixels than the plan's bound, which it names
    (libavutil's image size check; dav1d's own for AV1), or the guard's size expression has no
    value (see _decoded).
    """
    return re.compile(
        rb"(?:Picture|Frame) size (?P<width>\d+)x(?P<height>\d+) exceeds "
        rb"(?:specified max pixel count|limit) " + str(_max_pixels(plan)).encode() + rb"\b"
        rb"|Error when evaluating the expression 'if\(gt\(iw,\d+\)\+gt\(ih,\d+\),nan,"
    )


def _max_pixels(plan: EncodingPlan) -> int:
    return plan.max_dimension**2


def _decoded(plan: EncodingPlan, source: Any) -> Any:
    """The video stream the probe accepted, every frame scaled to the plan's size first.

    A stream can grow after the frames the probe saw (a new sequence header mid-stream). No
    filter after this one sees a larger frame: ffmpeg rebuilds the graph when the decoded size
    changes, and this scale brings each frame back to the planned size. Past MAX_DIMENSION on
    either side its width has no value (NaN), so ffmpeg stops and says so (oversized_frame).
    Only ffmpeg's own input chain (the display matrix's rotation) comes before it.
    """
    limit, largest = plan.max_dimension, plan.largest
    width = f"if(gt(iw,{limit})+gt(ih,{limit}),nan,{largest.width})"
    # Interlaced frames are scaled field by field, so the deinterlacer after still sees fields.
    fields = {"interl": 1} if plan.source.interlaced else {}
    video = source[str(plan.source.video_index)]
    return video.filter("scale", width, largest.height, **fields).filter("setsar", "1")


def _common_video(plan: EncodingPlan, source: Any) -> Any:
    """Filters every output shares: the guard, deinterlace, tone-map, constant rate, 8-bit."""
    video = _decoded(plan, source)
    if plan.source.interlaced:
        video = video.filter("bwdif", mode="send_frame", deint="interlaced")
    if plan.source.hdr:
        for name, options in TONEMAP:
            video = video.filter(name, **options)
    # A constant frame rate, capped: phones record variable frame rate.
    return video.filter("fps", fps=plan.fps).filter("format", "yuv420p")


def _audio(plan: EncodingPlan, source: Any) -> Any:
    """The sound of every rendition: 48 kHz, normalised, exactly as long as the picture."""
    if plan.source.has_audio:
        # Resample to 48 kHz, stretching or padding to follow the video's clock; first_pts=0
        # pads a late-starting audio track with silence so it stays in sync.
        audio = source[str(plan.source.audio_index)].filter(
            "aresample", 48000, first_pts=0, **{"async": 1}
        )
        for name, options in plan.normalisation.filters() if plan.normalisation else []:
            audio = audio.filter(name, **options)
        # Sound that ends early is padded with silence, sound that runs on is cut.
        audio = audio.filter("apad")
    else:
        # Every player behaves better with an audio track; give silent sources a silent one.
        audio = source_filter("anullsrc", channel_layout="stereo", sample_rate=48000)
    return audio.filter("atrim", end=f"{plan.duration:.3f}")


def _quality_output(plan: EncodingPlan, video: Any, out_dir: str) -> Any:
    """A small, frequent branch for the black and freeze detectors; its findings go to a file."""
    checked = (
        video.filter("fps", fps=QC_FPS)
        .filter("scale", QC_WIDTH, -2)
        .filter("blackdetect", d=BLACK_SECONDS, pix_th=0.10)
        .filter("freezedetect", n="-60dB", d=FREEZE_SECONDS)
        .filter("metadata", mode="print", file=os.path.join(out_dir, plan.qc_metadata_file))
    )
    return ffmpeg.output(checked, os.devnull, f="null", map_metadata=-1)


CANDIDATES, STORYBOARD, QUALITY = "candidates", "storyboard", "quality"


def build_command(
    plan: EncodingPlan,
    source_path: str,
    out_dir: str,
    watermarks: dict[str, str],
    position: str = "bottom-right",
    ffmpeg_bin: str = "ffmpeg",
    parts: Collection[str] | None = None,
) -> list[str]:
    """ffmpeg's argument list for `plan`; `watermarks` maps rendition names to PNG files.

    `parts` limits the outputs to some renditions (by name), "candidates", "storyboard" and
    "quality"; by default one run makes them all.
    """
    renditions = [r for r in plan.renditions if parts is None or r.name in parts]
    extras = [p for p in (CANDIDATES, STORYBOARD) if parts is None or p in parts]
    # Force the demuxer the probe accepted and allow reading local files only: a file that
    # claims to be something else, or points elsewhere, cannot change what ffmpeg opens.
    # No decoder allocates a frame of more than MAX_DIMENSION² pixels, whatever the stream
    # says later: a file probed at 320x240 cannot make it decode 8192x8192 frames. ffmpeg
    # decodes a few frames of every stream when it opens the file; other streams (a cover) get
    # a bound one pixel smaller, so that only the accepted stream's refusal names the bound.
    bound = _max_pixels(plan)
    source = ffmpeg.input(
        "file:" + source_path,
        f=plan.source.demuxer.split(",")[0],
        protocol_whitelist="file",
        **{"max_pixels": bound - 1, f"max_pixels:{plan.source.video_index}": bound},
    )
    video = _common_video(plan, source)
    outputs = []
    checked = None
    if parts is None or QUALITY in parts:
        video, checked = fan_out(video, 2) if renditions or extras else (None, video)
    if renditions:
        audio = fan_out(_audio(plan, source), len(renditions), "asplit")
        # A cascade: each rung is scaled from the one above it, which costs far less than
        # scaling every rung from the full-size source.
        current = video
        for index, rendition in enumerate(renditions):
            first, last = index == 0, index == len(renditions) - 1
            current = _scaled(plan, current, rendition, from_source=first)
            wants = [True, first and CANDIDATES in extras, last and STORYBOARD in extras]
            streams = iter(fan_out(current, sum(wants) + (not last)))
            outputs.append(
                _rendition_output(
                    plan,
                    next(streams),
                    audio[index],
                    rendition,
                    watermarks[rendition.name],
                    position,
                    out_dir,
                )
            )
            if wants[1]:
                outputs.append(_candidates_output(plan, next(streams), out_dir, scaled=True))
            if wants[2]:
                outputs.append(_storyboard_output(plan, next(streams), out_dir))
            if not last:
                current = next(streams)
    elif extras:
        streams = iter(fan_out(video, len(extras)))
        if CANDIDATES in extras:
            outputs.append(_candidates_output(plan, next(streams), out_dir, scaled=False))
        if STORYBOARD in extras:
            outputs.append(_storyboard_output(plan, next(streams), out_dir))
    if checked is not None:
        # Last: ffmpeg's progress counts the frames of the first output, the largest rendition.
        outputs.append(_quality_output(plan, checked, out_dir))
    graph = ffmpeg.merge_outputs(*outputs).global_args(
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
        # Slice-threaded filters (overlay, the tone mapping) use every core, not one.
        "-filter_complex_threads",
        str(os.cpu_count() or 1),
    )
    return list(ffmpeg.compile(graph, cmd=ffmpeg_bin, overwrite_output=True))


def _scaled(plan: EncodingPlan, video: Any, rendition: Rendition, from_source: bool) -> Any:
    src, largest = plan.source, plan.largest
    if (
        from_source
        and src.colorspace == "bt709"
        and (largest.width, largest.height) == (rendition.width, rendition.height)
    ):
        return video  # the guard made the size and square pixels; the colours are right
    # From the source, convert its colour matrix (SD video is BT.601) to BT.709 as well;
    # later rungs are scaled from a BT.709 rung.
    matrix = (
        {"in_color_matrix": src.colorspace or "auto", "out_color_matrix": "bt709"}
        if from_source
        else {}
    )
    return video.filter("scale", rendition.width, rendition.height, **matrix).filter("setsar", "1")


def _rendition_output(
    plan: EncodingPlan,
    video: Any,
    audio: Any,
    rendition: Rendition,
    watermark: str,
    position: str,
    out_dir: str,
) -> Any:
    mark = image_in_graph(watermark)
    x, y = overlay_position(position, margin_for(rendition.width, rendition.height))
    return ffmpeg.output(
        ffmpeg.overlay(video, mark, x=x, y=y),
        audio,
        os.path.join(out_dir, rendition.file_name),
        vcodec="libx264",
        preset="veryfast",
        crf=CRF,
        pix_fmt="yuv420p",
        maxrate=f"{rendition.maxrate_k}k",
        bufsize=f"{rendition.maxrate_k * 2}k",
        # Keyframes on the same 2-second grid in every rendition, for switching.
        g=plan.keyframe_interval,
        keyint_min=plan.keyframe_interval,
        sc_threshold=0,
        force_key_frames="expr:gte(t,n_forced*2)",
        # One x264 frame thread a core, not its default of one and a half: each frame thread
        # holds frames of its own (40 MB less at 1080p) and 2 cores run no slower.
        threads=os.cpu_count() or 1,
        acodec="aac",
        ac=2,
        ar=48000,
        movflags="+faststart",
        # Drop phone metadata (location, device) and chapters from every output.
        map_metadata=-1,
        map_chapters=-1,
        **BT709,
        **{"b:a": AUDIO_BITRATE, "profile:v": "high", "fflags": "+bitexact"},
    )


def _candidates_output(plan: EncodingPlan, video: Any, out_dir: str, scaled: bool) -> Any:
    frames = video.filter(
        "select",
        # The first frame (in case the clip is a single frame), then one every interval.
        f"isnan(prev_selected_t)+gte(t-prev_selected_t,{plan.poster_interval:.3f})",
    )
    if not scaled:
        frames = _scaled(plan, frames, plan.largest, from_source=True)
    return ffmpeg.output(
        frames,
        os.path.join(out_dir, plan.candidate_pattern),
        vframes=plan.poster_candidates,
        fps_mode="passthrough",
        map_metadata=-1,
        **{"q:v": 2},
    )


def _storyboard_output(plan: EncodingPlan, video: Any, out_dir: str) -> Any:
    board = plan.storyboard
    sprite = (
        # `select`, not `fps`: the fps filter makes no frame at all from a clip shorter than
        # its interval.
        video.filter("select", f"isnan(prev_selected_t)+gte(t-prev_selected_t,{board.interval:g})")
        .filter("scale", board.tile_width, board.tile_height)
        .filter("setsar", "1")
        .filter("tile", f"{board.columns}x{board.rows}")
    )
    return ffmpeg.output(
        sprite,
        os.path.join(out_dir, board.image_file),
        vframes=1,
        update=1,
        fps_mode="passthrough",
        map_metadata=-1,
        **{"q:v": 4},
    )
