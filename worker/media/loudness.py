"""Bring every entry's sound to one loudness (EBU R128), from the audio pass's measurement.

A linear gain to the target. Where the gain would push peaks over the true-peak ceiling, the
same gain followed by a peak limiter, which touches only those brief peaks: loudnorm's dynamic
mode was tried and is no good here, landing 7 LU off target on a short clip with a few loud
peaks. Silent sources get no gain at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from worker.media.audio_analysis import Loudness

# The AAC encoder can push the true peak up a little: keep this much below the ceiling.
AAC_HEADROOM_DB = 0.5
# Never more gain than this: a near-silent recording would be all hiss.
MAX_GAIN_DB = 30.0
# A limited gain is measured again and corrected until it lands this close (or gives up).
TOLERANCE_LU, MAX_CORRECTIONS = 0.5, 3
# The limiter sees sample peaks; true peaks between samples can sit up to about 1 dB higher.
INTERSAMPLE_DB = 1.0


@dataclass(frozen=True)
class Normalisation:
    """What is done to a source's sound: measured and target values, mode and gain."""

    measured_lufs: float
    measured_true_peak: float
    measured_lra: float
    measured_threshold: float
    target_lufs: float
    target_true_peak: float
    mode: str  # "linear", "limited" (gain, then peaks limited) or "none" (silent)
    gain_db: float
    # Measured on the normalised sound where that was needed (limited mode), else None.
    result_lufs: float | None = None

    def filters(self) -> list[tuple[str, dict[str, Any]]]:
        """The audio filters (name, options) that apply it, after resampling to 48 kHz."""
        if self.mode == "linear":
            return [("volume", {"volume": f"{self.gain_db:.2f}dB"})]
        if self.mode == "limited":
            ceiling = self.target_true_peak - AAC_HEADROOM_DB - INTERSAMPLE_DB
            return [
                ("volume", {"volume": f"{self.gain_db:.2f}dB"}),
                # level=0: no automatic make-up gain, the loudness is already right.
                ("alimiter", {"limit": f"{10 ** (ceiling / 20):.4f}", "level": 0}),
            ]
        return []

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_normalisation(measured: Loudness, target_lufs: float, ceiling: float) -> Normalisation:
    """How to bring `measured` sound to `target_lufs` with true peaks under `ceiling` dBTP."""
    gain = min(MAX_GAIN_DB, target_lufs - measured.integrated)
    if measured.silent:
        mode, gain = "none", 0.0
    elif measured.true_peak + gain <= ceiling - AAC_HEADROOM_DB:
        mode = "linear"
    else:
        mode = "limited"
    return Normalisation(
        measured_lufs=measured.integrated,
        measured_true_peak=measured.true_peak,
        measured_lra=measured.lra,
        measured_threshold=measured.threshold,
        target_lufs=target_lufs,
        target_true_peak=ceiling,
        mode=mode,
        gain_db=round(gain, 2),
    )


Measure = Callable[[list[tuple[str, dict[str, Any]]]], Loudness]


def correct_limited(plan: Normalisation, measure: Measure) -> Normalisation:
    """Raise a limited gain by what the limiter took off the loudness, measuring each try.

    Squashing the peaks also lowers the integrated loudness (by 6 LU on a quiet clip with
    loud claps); a linear plan needs no measurement, its result is exact.
    """
    if plan.mode != "limited":
        return plan
    for attempt in range(MAX_CORRECTIONS + 1):
        result = measure(plan.filters()).integrated
        plan = replace(plan, result_lufs=result)
        shortfall = plan.target_lufs - result
        if abs(shortfall) <= TOLERANCE_LU or attempt == MAX_CORRECTIONS:
            break
        plan = replace(plan, gain_db=min(MAX_GAIN_DB, round(plan.gain_db + shortfall, 2)))
    return plan
