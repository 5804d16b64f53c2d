"""Contestants read their own language only: refusals, failures, upload errors; the entry form's
blind-contest note; quality warnings with a suggestion to replace the video.

In the Chinese UI a sentence may hold these Latin words, which are names a contestant meets on
their phone's export screen, not English: MB, GB, MP4, MOV, H.264, AAC, 1080p.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from storage.models import AssetKind, Contest, Entry, Job, JobState, Role
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import Made, make_entry, make_user, open_contest, store_media, unique
from tests.media import make_clip
from worker import reasons
from worker.media.limits import MediaLimits
from worker.media.probe import probe
from worker.media.refusal import MediaRefused

pytestmark = pytest.mark.integration

NAMES = re.compile(r"\b(?:MB|GB|MP4|MOV|H\.264|AAC|1080p)\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


def latin_words(text: str) -> list[str]:
    """The Latin words of `text` that are not format or unit names."""
    return re.findall(r"[A-Za-z]+", NAMES.sub("", text))


def refusal_of(kind: str, tmp_path: Path) -> MediaRefused:
    """What the pipeline's probe says of a file of `kind`, made with ffmpeg or by hand."""
    limits = MediaLimits()
    path = tmp_path / f"{kind}.mp4"
    if kind == "too_long":
        make_clip(path, 160, 90, 2.0, fps=10)
        limits = MediaLimits(max_duration=1.0)
    elif kind == "too_large":
        make_clip(path, 160, 90, 1.0, fps=10)
        limits = MediaLimits(max_bytes=1024)
    elif kind == "not_video":
        path.write_text("这不是视频 not a video at all\n" * 50)
    else:  # broken: a real file cut off after its first 1500 bytes
        whole = make_clip(tmp_path / "whole.mp4", 160, 90, 1.0, fps=10)
        path.write_bytes(whole.read_bytes()[:1500])
    with pytest.raises(MediaRefused) as refused:
        probe(str(path), limits)
    return refused.value


def finished_job(session: Session, entry: Entry, state: JobState, reason: str) -> Job:
    job = Job(entry=entry, source_key=f"originals/{entry.id}/x", state=state, reason=reason)
    session.add(job)
    session.commit()
    return job


def english(client: FlaskClient) -> None:
    client.get("/lang/en")


@pytest.mark.parametrize("kind", ["too_long", "too_large", "not_video", "broken"])
def test_a_refused_file_reads_in_one_language(
    kind: str, client: FlaskClient, auth: Any, session: Session, tmp_path: Path
) -> None:
    refusal = refusal_of(kind, tmp_path)
    assert CJK.search(refusal.reason_zh) and refusal.reason_en in refusal.reason
    entry = make_entry(session, make_user(session))
    finished_job(session, entry, JobState.REJECTED, refusal.reason)
    auth.login(entry.owner.username)

    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    shown = client.get(f"/api/v1/entries/{entry.id}").get_json()["job"]["reason"]
    assert shown == refusal.reason_zh and refusal.reason_zh in page
    assert refusal.reason_en not in page and latin_words(shown) == []

    # The English UI: the refusal's English sentence, no Chinese, no brackets of detail.
    english(client)
    shown_en = client.get(f"/api/v1/entries/{entry.id}").get_json()["job"]["reason"]
    assert shown_en == reasons.english_refusal(refusal.reason) and not CJK.search(shown_en)
    assert shown_en in client.get(f"/submit/{entry.id}").get_data(as_text=True)


def test_a_failure_never_shows_the_errors_text(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    entry = make_entry(session, make_user(session))
    detail = "KeyError: '/srv/worker/tmp/job-7/out'"
    finished_job(session, entry, JobState.FAILED, reasons.internal(KeyError(detail)))
    auth.login(entry.owner.username)
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    shown = client.get(f"/api/v1/entries/{entry.id}").get_json()["job"]["reason"]
    assert shown == "系统内部错误，组委会将协助处理" and shown in page
    assert "KeyError" not in page and "/srv/worker" not in page

    english(client)
    assert client.get(f"/api/v1/entries/{entry.id}").get_json()["job"]["reason"] == (
        "An internal error occurred; the organizers will help."
    )
    # A sentence with numbers in it has no catalog entry: a plain English one, not Chinese.
    later = make_entry(session, entry.owner)
    finished_job(session, later, JobState.FAILED, reasons.gave_up(3))
    shown_en = client.get(f"/api/v1/entries/{later.id}").get_json()["job"]["reason"]
    assert shown_en == "Processing did not finish; the organizers will help."
    assert "gave up" not in client.get(f"/submit/{later.id}").get_data(as_text=True)
    auth.logout()

    # Operators still read the detail.
    auth.login(make_user(session, Role.OPERATOR).username)
    assert "KeyError" in client.get("/ops/").get_data(as_text=True)


def test_upload_refusals_are_chinese_sentences(
    client: FlaskClient, auth: Any, session: Session, settings: Settings
) -> None:
    entry = make_entry(session, make_user(session))
    auth.login(entry.owner.username)
    too_big = client.post(
        f"/api/v1/entries/{entry.id}/uploads",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(settings.max_upload_bytes + 1)},
    )
    assert too_big.status_code == 413
    error = too_big.get_json()["error"]
    assert CJK.search(error) and latin_words(error) == []

    page = client.post(
        f"/submit/{entry.id}/video",
        data={"video": (io.BytesIO(b"plain text, not a video\n" * 100), "notes.mp4")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    refused = re.search(r'<p class="flash error" role="status">([^<]*)</p>', page)
    assert refused is not None and CJK.search(refused.group(1))
    assert latin_words(refused.group(1)) == []


def test_the_entry_form_asks_blind_contests_to_keep_the_unit_out(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest = open_contest(session)
    auth.login(make_user(session).username)
    assert contest.blind
    assert "本次评审为匿名评审" in client.get("/submit/new").get_data(as_text=True)
    contest.blind = False
    session.commit()
    try:
        assert "本次评审为匿名评审" not in client.get("/submit/new").get_data(as_text=True)
    finally:
        contest.blind = True
        session.commit()


BLACK = {"kind": "black", "start": 0.0, "end": 2.0, "message": "开头 2 秒为黑屏"}


def entry_with_warnings(
    session: Session, store: ObjectStore, settings: Settings, tmp_path: Path, contest: Contest
) -> Entry:
    """A ready entry with a playable rendition and a black opening in its quality report."""
    entry = make_entry(session, make_user(session), contest)
    clip = make_clip(tmp_path / "clip.mp4", 160, 90, 1.0, fps=10, audio=False)
    poster = io.BytesIO()
    Image.new("RGB", (160, 90), (20, 20, 20)).save(poster, "JPEG")
    files = {
        "360p.mp4": Made(AssetKind.RENDITION, clip.read_bytes(), "video/mp4", 160, 90, 1.0),
        "poster_small.jpg": Made(AssetKind.POSTER, poster.getvalue(), "image/jpeg", 160, 90),
    }
    store_media(session, store, settings, entry, files)
    entry.qc = [BLACK]
    session.commit()
    return entry


def test_quality_warnings_suggest_replacing_the_video_before_the_deadline(
    client: FlaskClient,
    auth: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = entry_with_warnings(session, object_store, settings, tmp_path, open_contest(session))
    auth.login(entry.owner.username)
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert BLACK["message"] in page and "建议在截止时间（" in page
    assert 'href="#video-form"' in page and 'id="video-form"' in page
    auth.logout()

    now = datetime.now(UTC)
    closed = Contest(
        slug=unique("closed-"),
        title="已截止的征集",
        opens_at=now - timedelta(days=10),
        closes_at=now - timedelta(days=1),
    )
    session.add(closed)
    session.commit()
    late = entry_with_warnings(session, object_store, settings, tmp_path, closed)
    auth.login(late.owner.username)
    page = client.get(f"/submit/{late.id}").get_data(as_text=True)
    assert BLACK["message"] in page and "征集已截止，视频不能再更换" in page
    assert "建议在截止时间" not in page and 'href="#video-form"' not in page
