"""The vertical slice end to end: upload, real worker, real RabbitMQ, S3, ffmpeg, PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AssetKind, Entry, EntryStatus, JobState, MediaAsset, Role
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import ENTRY_FIELDS, PASSWORD, make_user, open_contest
from tests.media import ffprobe, make_clip, streams

pytestmark = pytest.mark.integration


def basic(username: str) -> dict[str, str]:
    import base64

    token = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def wait_finished(
    client: FlaskClient, entry_id: int, headers: dict[str, str], timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        data = client.get(f"/api/v1/entries/{entry_id}", headers=headers).get_json()
        seen.append((data["status"], (data["job"] or {}).get("percent")))
        if data["status"] in {"ready", "rejected", "failed"}:
            return data
        time.sleep(0.5)
    raise AssertionError(f"entry {entry_id} never finished; states seen: {seen[-5:]}")


def test_api_upload_becomes_watermarked_playable_rendition(
    client: FlaskClient,
    session: Session,
    worker: Any,
    tmp_path: Path,
    settings: Settings,
) -> None:
    open_contest(session)
    user = make_user(session, Role.CONTESTANT)
    headers = basic(user.username)
    clip = make_clip(tmp_path / "phone.mp4", width=1080, height=1920, seconds=3, fps=30)

    created = client.post("/api/v1/entries", json=ENTRY_FIELDS, headers=headers)
    assert created.status_code == 201, created.get_json()
    entry_id = created.get_json()["id"]
    assert created.get_json()["status"] == "draft"

    with open(clip, "rb") as fh:
        uploaded = client.put(
            f"/api/v1/entries/{entry_id}/video",
            data=fh,
            headers=headers,
            content_type="application/octet-stream",
        )
    assert uploaded.status_code == 202, uploaded.get_json()
    assert uploaded.get_json()["job"]["state"] in {"queued", "running"}

    data = wait_finished(client, entry_id, headers)
    assert data["status"] == "ready", data
    assert data["job"]["percent"] == 100
    media = data["media"]
    assert (media["width"], media["height"]) == (720, 1280)  # the default for phones
    assert [(r["width"], r["height"]) for r in media["renditions"]] == [
        (1080, 1920),
        (720, 1280),
        (480, 854),
    ]
    assert set(media["posters"]) == {"poster_large", "poster_medium", "poster_small"}
    vtt = client.get(media["storyboard_vtt_url"], headers=headers)
    assert vtt.status_code == 200 and vtt.mimetype == "text/vtt"
    sprite_url = vtt.get_data(as_text=True).split("\n")[3].split("#xywh=")[0]
    sprite = requests.get(sprite_url, timeout=30)
    assert sprite.status_code == 200
    assert Image.open(io.BytesIO(sprite.content)).size == (3 * 90, 160)

    rendition = tmp_path / "rendition.mp4"
    rendition.write_bytes(requests.get(media["rendition_url"], timeout=30).content)
    info = ffprobe(rendition)
    (video,) = streams(info, "video")
    (audio,) = streams(info, "audio")
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert (video["width"], video["height"]) == (720, 1280)
    assert audio["codec_name"] == "aac"
    assert abs(float(info["format"]["duration"]) - 3.0) < 0.2
    # +faststart: the index (moov) comes before the media data (mdat).
    head = rendition.read_bytes()[:200_000]
    assert 0 <= head.find(b"moov") < head.find(b"mdat")

    poster = requests.get(media["poster_url"], timeout=30)
    assert poster.status_code == 200
    assert Image.open(io.BytesIO(poster.content)).format == "JPEG"

    # The original is kept, and every asset row points at a stored object.
    session.expire_all()
    assets = session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry_id)).all()
    # Everything the video pipeline makes; the share poster is drawn on demand
    # (worker/share.py), images are made of photo, comic and story pieces only.
    assert {a.kind for a in assets} == set(AssetKind) - {AssetKind.SHARE_POSTER, AssetKind.IMAGE}
    assert len(assets) == 1 + 3 + 3 + 2
    original = next(a for a in assets if a.kind == AssetKind.ORIGINAL)
    assert original.bytes == clip.stat().st_size
    store = ObjectStore(settings)
    assert all(store.exists(a.bucket, a.object_key) for a in assets)


# Starts like an MP4 (so it passes the upload's magic-byte check) but holds no video.
BROKEN_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"not really a video\n" * 50


def test_form_upload_of_a_broken_video_is_rejected_on_the_job(
    client: FlaskClient,
    auth: Any,
    session: Session,
    worker: Any,
    settings: Settings,
) -> None:
    open_contest(session)
    user = make_user(session, Role.CONTESTANT)
    auth.login(user.username)
    page = client.post(
        "/submit/new",
        data={**ENTRY_FIELDS, "video": (io.BytesIO(BROKEN_MP4), "broken.mp4")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 302
    entry = session.scalar(select(Entry).where(Entry.owner_id == user.id))
    assert entry is not None
    data = wait_finished(client, entry.id, basic(user.username))
    assert data["status"] == "rejected"
    assert data["job"]["state"] == JobState.REJECTED.value
    assert "无法识别为视频文件" in data["job"]["reason"]
    assert data["media"] is None

    # Nothing is lost: the uploaded file is still stored as it came, its hash recorded.
    session.expire_all()
    original = session.scalar(select(MediaAsset).where(MediaAsset.entry_id == entry.id))
    assert original is not None and original.bytes == len(BROKEN_MP4)
    assert original.sha256 == hashlib.sha256(BROKEN_MP4).hexdigest()
    assert ObjectStore(settings).exists(original.bucket, original.object_key)

    shown = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert "视频未通过检查" in shown and "无法识别为视频文件" in shown
    session.refresh(entry)
    assert entry.status is EntryStatus.REJECTED


def test_a_file_that_is_no_video_at_all_is_refused_before_storing(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    open_contest(session)
    user = make_user(session, Role.CONTESTANT)
    auth.login(user.username)
    page = client.post(
        "/submit/new",
        data={**ENTRY_FIELDS, "video": (io.BytesIO(b"just some notes\n" * 50), "notes.mp4")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "所选文件不是视频文件" in page.get_data(as_text=True)
    entry = session.scalar(select(Entry).where(Entry.owner_id == user.id))
    assert entry is not None and entry.status is EntryStatus.DRAFT
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []


def test_requests_on_other_threads_publish_to_the_configured_queue(
    app: Any, settings: Settings
) -> None:
    # Threaded web servers handle requests off the main thread; Celery's current app is
    # per thread, so the task must be bound to our configured app explicitly.
    import threading

    from worker.tasks import transcode_entry

    seen: dict[str, Any] = {}

    def look() -> None:
        task_app = transcode_entry.app
        seen["queue"] = task_app.conf.task_default_queue
        seen["broker"] = task_app.conf.broker_url

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    assert seen == {"queue": settings.media_queue, "broker": settings.broker_url}
