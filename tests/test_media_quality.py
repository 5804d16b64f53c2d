"""Even loudness (EBU R128) and the technical quality report, on generated clips.

Loudness is checked with ffmpeg's own measurement of the outputs; findings by kind and time
(within half a second of where the defect was put).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.settings import Settings
from tests.media import ffmpeg, ffprobe, loudness_of, make_clip
from worker.media.audio_analysis import Loudness
from worker.media.loudness import correct_limited, plan_normalisation
from worker.media.pipeline import Manifest, process_file
from worker.media.quality import MAX_PER_KIND, Finding, clock_zh, segment_findings

SETTINGS = Settings.from_env({})
TARGET, CEILING = SETTINGS.loudness_target_lufs, SETTINGS.loudness_true_peak_db


def processed(src: Path, tmp_path: Path) -> tuple[Manifest, Path]:
    out = tmp_path / "out"
    out.mkdir(parents=True)
    manifest = process_file(str(src), str(out), SETTINGS, entry_number=7)
    return manifest, out / manifest.renditions[0].file


def clip_with_sound(path: Path, sound: str, seconds: float = 10) -> Path:
    """A small test-pattern video with the lavfi audio source `sound`, AAC in MP4."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=s=320x240:r=25:d={seconds}",
        "-f", "lavfi", "-i", sound,
        "-c:v", "libx264", "-c:a", "aac", "-t", str(seconds), str(path),
    )  # fmt: skip
    return path


SOURCES = {
    # Whispered: pink noise near -35 LUFS, peaks low enough for a plain gain.
    "quiet": ("anoisesrc=c=pink:d=10:a=0.1:r=48000:seed=1", -35, "linear"),
    # Shouted: a loud tone near -8 LUFS.
    "loud": ("sine=f=997:d=10:r=48000,volume=4.47", -8, "linear"),
    # Quiet, with a loud clap every 3 s: the gain alone would push the claps past the ceiling.
    "quiet_with_claps": (
        "anoisesrc=c=pink:d=10:a=0.08:r=48000:seed=1[n];"
        "sine=f=1000:d=10:r=48000,volume='if(lt(mod(t,3),0.03),4,0)':eval=frame[c];"
        "[n][c]amix=inputs=2:normalize=0",
        -25,
        "limited",
    ),
}


@pytest.mark.parametrize("name", SOURCES)
def test_quiet_and_loud_sources_land_on_the_target(tmp_path: Path, name: str) -> None:
    sound, level, mode = SOURCES[name]
    src = clip_with_sound(tmp_path / f"{name}.mp4", sound)
    assert loudness_of(src)["input_i"] == pytest.approx(level, abs=1.5)
    manifest, rendition = processed(src, tmp_path)
    measured = loudness_of(rendition)
    assert measured["input_i"] == pytest.approx(TARGET, abs=1.0)
    assert measured["input_tp"] <= CEILING
    # The manifest records what was measured, the target and what was done.
    assert manifest.loudness is not None and manifest.loudness.mode == mode
    assert manifest.loudness.measured_lufs == pytest.approx(level, abs=1.5)
    assert (manifest.loudness.target_lufs, manifest.loudness.target_true_peak) == (TARGET, CEILING)
    kind = "quiet" if level < -30 else "loud" if level > -10 else None
    assert kind is None or kind in [f.kind for f in manifest.qc]


def test_every_rendition_gets_the_same_loudness(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "v.mp4", 720, 1280, 6, 30)
    manifest, _ = processed(src, tmp_path)
    levels = [loudness_of(tmp_path / "out" / r.file)["input_i"] for r in manifest.renditions]
    assert len(levels) == 2 and max(levels) - min(levels) < 0.3


def test_a_silent_source_stays_silent(tmp_path: Path) -> None:
    src = clip_with_sound(tmp_path / "s.mp4", "anullsrc=r=48000:cl=stereo", 4)
    manifest, rendition = processed(src, tmp_path)
    assert loudness_of(rendition)["input_i"] < -60
    assert manifest.loudness is not None and manifest.loudness.mode == "none"
    assert manifest.loudness.gain_db == 0 and only(manifest.qc, "silent")


def test_the_settings_choose_the_target(tmp_path: Path) -> None:
    quieter = Settings.from_env({"LOUDNESS_TARGET_LUFS": "-23", "LOUDNESS_TRUE_PEAK_DB": "-3"})
    src = clip_with_sound(tmp_path / "q.mp4", SOURCES["quiet"][0])
    out = tmp_path / "out"
    out.mkdir()
    manifest = process_file(str(src), str(out), quieter)
    measured = loudness_of(out / manifest.renditions[0].file)
    assert measured["input_i"] == pytest.approx(-23, abs=1.0) and measured["input_tp"] <= -3


def test_a_gain_that_would_clip_is_limited_and_measured_again() -> None:
    loud_peaks = Loudness(integrated=-30, true_peak=-3, lra=8, threshold=-40)
    plan = plan_normalisation(loud_peaks, -16, -1.5)
    assert plan.mode == "limited" and plan.gain_db == 14
    assert [name for name, _ in plan.filters()] == ["volume", "alimiter"]
    # Each measurement finds the limiter took 2 LU off; the gain is raised until it lands.
    tries: list[float] = []

    def measure(filters: list[tuple[str, dict[str, object]]]) -> Loudness:
        gain = float(str(filters[0][1]["volume"]).removesuffix("dB"))
        tries.append(gain)
        return Loudness(-30 + gain - 2 + (gain - 14) * -0.25, -2.5, 6, -40)

    corrected = correct_limited(plan, measure)
    assert tries[0] == 14 and len(tries) > 1
    assert corrected.result_lufs == pytest.approx(-16, abs=0.5)
    # A gain that fits needs no measuring; silence gets none.
    assert correct_limited(plan_normalisation(Loudness(-20, -10, 5, -30), -16, -1.5), measure)
    assert plan_normalisation(Loudness(-99, -99, 0, -70), -16, -1.5).mode == "none"


def near(value: float | None, expected: float) -> bool:
    return value is not None and abs(value - expected) <= 0.5


def only(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def test_black_frozen_and_silent_stretches_are_found_with_their_times(tmp_path: Path) -> None:
    # Picture: 4.2 s black, 3 s moving, 4 s frozen (a still blue frame), 3 s moving.
    # Sound: 6 s tone, 5 s silence, then tone to the end.
    src = tmp_path / "defects.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "color=black:s=640x360:r=25:d=4.2",
        "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=3",
        "-f", "lavfi", "-i", "color=0x3050c0:s=640x360:r=25:d=4",
        "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=3",
        "-f", "lavfi", "-i", "sine=f=440:d=6:r=48000",
        "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono:d=5",
        "-f", "lavfi", "-i", "sine=f=440:d=3.2:r=48000",
        "-filter_complex", "[0][1][2][3]concat=n=4:v=1:a=0[v];[4][5][6]concat=n=3:v=0:a=1[a]",
        "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-c:a", "aac", str(src),
    )  # fmt: skip
    manifest, _ = processed(src, tmp_path)
    black, frozen, silence = (only(manifest.qc, k) for k in ("black", "frozen", "silence"))
    assert len(black) == 1 and near(black[0].start, 0) and near(black[0].end, 4.2)
    assert black[0].message == "开头 4.2 秒为黑屏"
    assert len(frozen) == 1 and near(frozen[0].start, 7.2) and near(frozen[0].end, 11.2)
    assert "画面静止" in frozen[0].message
    assert len(silence) == 1 and near(silence[0].start, 6) and near(silence[0].end, 11)
    assert silence[0].message == "第 6秒 起有 5 秒无声"
    # In time order, each a warning: the entry is processed all the same.
    starts = [f.start for f in manifest.qc if f.start is not None]
    assert starts == sorted(starts) and manifest.renditions


def test_clipped_sound_is_found(tmp_path: Path) -> None:
    # Full scale from 3 s to 5 s: the recording was too loud and its peaks flattened.
    sound = "sine=f=440:d=7:r=48000,volume='if(between(t,3,5),24,2)':eval=frame,aformat=s16"
    manifest, _ = processed(clip_with_sound(tmp_path / "c.mp4", sound, 7), tmp_path)
    clipped = only(manifest.qc, "clipped")
    assert len(clipped) == 1 and near(clipped[0].start, 3) and near(clipped[0].end, 5)
    assert "削波" in clipped[0].message


@pytest.mark.parametrize(
    ("picture", "sound", "message"),
    [
        (5, 35, "声音比画面长 30 秒，已按画面长度处理"),  # music left running after the end
        (6, 3, "画面比声音长 3 秒，已按画面长度处理"),
    ],
)
def test_sound_is_cut_or_padded_to_the_picture(
    tmp_path: Path, picture: float, sound: float, message: str
) -> None:
    src = tmp_path / "mismatch.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=s=640x360:r=25:d={picture}",
        "-f", "lavfi", "-i", f"sine=f=440:d={sound}:r=48000",
        "-c:v", "libx264", "-c:a", "aac", str(src),
    )  # fmt: skip
    manifest, rendition = processed(src, tmp_path)
    assert [f.message for f in only(manifest.qc, "length_mismatch")] == [message]
    lengths = [float(s["duration"]) for s in ffprobe(rendition)["streams"]]
    assert len(lengths) == 2 and all(abs(length - picture) < 0.2 for length in lengths), lengths


def test_low_resolution_and_starved_bitrate_are_noted(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "low.mp4", 320, 240, 3, 25, extra=["-b:v", "20k"])
    manifest, _ = processed(src, tmp_path)
    kinds = [f.kind for f in manifest.qc]
    assert "low_resolution" in kinds and "low_bitrate" in kinds
    # A clean source has nothing to say.
    clean, _ = processed(make_clip(tmp_path / "ok.mp4", 1280, 720, 3, 25), tmp_path / "x")
    assert clean.qc == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0秒"), (4.2, "4.2秒"), (59.96, "60秒"), (72, "1分12秒"), (120, "2分")],
)
def test_moments_read_naturally_in_chinese(seconds: float, text: str) -> None:
    assert clock_zh(seconds) == text


def test_a_file_of_a_thousand_flashes_gets_a_short_report() -> None:
    flashes = [(float(t), t + 1.0) for t in range(0, 600, 2)]
    findings = segment_findings("black", flashes, 600, "为黑屏")
    assert len(findings) == MAX_PER_KIND + 1
    assert findings[-1].message == f"此后另有 {len(flashes) - MAX_PER_KIND} 处为黑屏"
    assert (findings[-1].start, findings[-1].end) == (flashes[MAX_PER_KIND][0], 599.0)
