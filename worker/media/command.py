"""The single ffmpeg command of a plan, built with ffmpeg-python."""

from __future__ import annotations

import os

import ffmpeg

from worker.media.plan import AUDIO_BITRATE, CRF, EncodingPlan
from worker.media.watermark import margin_for


def build_command(
    plan: EncodingPlan,
    source_path: str,
    out_dir: str,
    watermarks: dict[str, str],
    ffmpeg_bin: str = "ffmpeg",
) -> list[str]:
    """ffmpeg's argument list: every rendition and the poster from one decode of the source.

    `watermarks` maps each rendition's name to its watermark PNG.
    """
    src = plan.source
    # Force the demuxer the probe accepted and allow reading local files only: a file that
    # claims to be something else, or points elsewhere, cannot change what ffmpeg opens.
    source = ffmpeg.input(
        "file:" + source_path, f=src.demuxer.split(",")[0], protocol_whitelist="file"
    )
    video = (
        source.video.filter("fps", fps=plan.fps).filter("setsar", "1").filter("format", "yuv420p")
    )
    branches = video.filter_multi_output("split", len(plan.renditions) + 1)
    if src.has_audio:
        audio = source.audio.filter("aresample", 48000, **{"async": 1})
    else:
        # Every player behaves better with an audio track; give silent sources a silent one.
        audio = ffmpeg.input(
            "anullsrc=channel_layout=stereo:sample_rate=48000", f="lavfi", t=f"{src.duration:.3f}"
        ).audio
    outputs = []
    for index, rendition in enumerate(plan.renditions):
        mark = ffmpeg.input("file:" + watermarks[rendition.name], protocol_whitelist="file")
        margin = margin_for(rendition.width, rendition.height)
        scaled = branches[index].filter("scale", rendition.width, rendition.height)
        marked = ffmpeg.overlay(scaled, mark, x=f"W-w-{margin}", y=f"H-h-{margin}")
        outputs.append(
            ffmpeg.output(
                marked,
                audio,
                os.path.join(out_dir, rendition.file_name),
                vcodec="libx264",
                preset="veryfast",
                crf=CRF,
                pix_fmt="yuv420p",
                maxrate=f"{rendition.maxrate_k}k",
                bufsize=f"{rendition.maxrate_k * 2}k",
                g=plan.keyframe_interval,
                keyint_min=plan.keyframe_interval,
                sc_threshold=0,
                acodec="aac",
                ac=2,
                ar=48000,
                movflags="+faststart",
                # Drop phone metadata (location, device) and chapters from every output.
                map_metadata=-1,
                map_chapters=-1,
                **{"b:a": AUDIO_BITRATE, "profile:v": "high", "fflags": "+bitexact"},
            )
        )
    largest = max(plan.renditions, key=lambda r: r.width * r.height)
    poster = (
        branches[len(plan.renditions)]
        .filter("select", f"gte(t,{plan.poster_time:.3f})")
        .filter("scale", largest.width, largest.height)
    )
    outputs.append(
        ffmpeg.output(
            poster,
            os.path.join(out_dir, plan.poster_file),
            vframes=1,
            update=1,
            map_metadata=-1,
            **{"q:v": 3},
        )
    )
    graph = ffmpeg.merge_outputs(*outputs).global_args(
        "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-progress", "pipe:1"
    )
    return list(ffmpeg.compile(graph, cmd=ffmpeg_bin, overwrite_output=True))
