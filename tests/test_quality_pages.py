"""The quality report reaches the contestant and organizers; no judge, nor the public."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from storage.models import JobState, Role
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import make_user, stored_job
from tests.media import ffmpeg, make_clip
from web.entry_view import public_view
from worker.jobs import process_job

pytestmark = pytest.mark.integration
BLACK_OPENING = "开头 2 秒为黑屏"


def black_opening(path: Path) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", "color=black:s=1280x720:r=25:d=2",
        "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=2",
        "-f", "lavfi", "-i", "sine=d=4",
        "-filter_complex", "[0][1]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "2:a",
        "-c:v", "libx264", "-c:a", "aac", str(path),
    )  # fmt: skip
    return path


def test_findings_are_shown_to_the_contestant_and_organizers_only(
    app: Flask,
    client: FlaskClient,
    auth: Any,
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    job = stored_job(session, object_store, settings, black_opening(tmp_path / "b.mp4"))
    assert process_job(session_factory, object_store, settings, job.id) is JobState.READY
    session.refresh(job)
    entry = job.entry
    assert [f["kind"] for f in entry.qc] == ["black"] and entry.qc[0]["message"] == BLACK_OPENING
    assert entry.loudness["target_lufs"] == settings.loudness_target_lufs

    auth.login(entry.owner.username)
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert "技术检查提示" in page and BLACK_OPENING in page and "不影响作品参赛" in page
    api = client.get(f"/api/v1/entries/{entry.id}").get_json()
    assert api["qc"][0]["kind"] == "black" and api["qc"][0]["start"] == pytest.approx(0, abs=0.5)
    auth.logout()

    auth.login(make_user(session, Role.ORGANIZER).username)
    assert BLACK_OPENING in client.get("/admin/").get_data(as_text=True)
    auth.logout()

    # Judges' score forms and the public gallery are built from public_view, which has none.
    with app.test_request_context():
        shown = public_view(entry)
    assert "qc" not in shown and BLACK_OPENING not in str(shown)


def test_a_clean_entry_shows_no_report(
    client: FlaskClient,
    auth: Any,
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    clip = make_clip(tmp_path / "ok.mp4", 1280, 720, 3)
    job = stored_job(session, object_store, settings, clip)
    assert process_job(session_factory, object_store, settings, job.id) is JobState.READY
    session.refresh(job)
    assert job.entry.qc == []
    auth.login(job.entry.owner.username)
    page = client.get(f"/submit/{job.entry.id}").get_data(as_text=True)
    assert '<section class="card" id="quality" hidden>' in page
