"""ffmpeg's memory stays flat with duration, and a run that passes its limit says so.

Figures (time, realtime factor, peak memory on full-length entries) are in bench/pipeline.py;
here only the shape is checked: three times the duration must not mean more memory.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from storage.models import EntryStatus, JobState, Role
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import make_user, stored_job
from tests.media import make_clip
from worker.jobs import process_job
from worker.media.ffmpeg_run import FfmpegOutOfMemory
from worker.media.pipeline import process_file

SETTINGS = Settings.from_env({})
# Enough growth to catch frames piling up; far more than run-to-run noise (a few MB).
MAX_GROWTH = 1.30


def ffmpeg_peak(tmp_path: Path, seconds: float) -> int:
    # Vertical like a phone, with sound: every branch of the real command is in play.
    src = make_clip(tmp_path / f"{seconds}.mp4", 480, 854, seconds, 30)
    out = tmp_path / f"out{seconds}"
    out.mkdir()
    manifest = process_file(str(src), str(out), SETTINGS, entry_number=1)
    assert manifest.run is not None
    return manifest.run.peak_bytes


def test_ffmpeg_memory_does_not_grow_with_duration(tmp_path: Path) -> None:
    short, long = ffmpeg_peak(tmp_path, 8), ffmpeg_peak(tmp_path, 24)
    assert short > 10 * 1024**2  # the kernel's figure for a real ffmpeg, not a zero
    assert long <= short * MAX_GROWTH, f"{short / 2**20:.0f} MiB -> {long / 2**20:.0f} MiB"


def test_a_run_over_its_memory_limit_is_stopped_and_named(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "c.mp4", 480, 854, 3, 30)
    tight = dataclasses.replace(SETTINGS, ffmpeg_memory_limit_mb=20)
    with pytest.raises(FfmpegOutOfMemory) as caught:
        process_file(str(src), str(tmp_path), tight, entry_number=1)
    assert caught.value.code == "out_of_memory" and "20 MiB" in caught.value.detail


@pytest.mark.integration
def test_the_job_says_out_of_memory(
    client: FlaskClient,
    auth: Any,
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    job = stored_job(session, object_store, settings, make_clip(tmp_path / "c.mp4", 480, 854, 3))
    tight = dataclasses.replace(settings, ffmpeg_memory_limit_mb=20)
    assert process_job(session_factory, object_store, tight, job.id) is JobState.FAILED
    session.refresh(job)
    assert job.reason_code == "out_of_memory" and "内存不足" in job.reason
    assert job.entry.status is EntryStatus.FAILED
    # The original is kept, so an operator can retry with more memory.
    assert object_store.exists(settings.bucket_originals, job.source_key)
    # The operator console lists the failure with its code.
    auth.login(make_user(session, Role.OPERATOR).username)
    page = client.get("/ops/").get_data(as_text=True)
    assert f"#{job.id}" in page and "<code>out_of_memory</code>" in page
