"""The one way in for originals: what the tus completion and report uploads share with
judging.accept (sniffing by content, nothing refused left in the store)."""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from judging.accept import Original, accept_original
from judging.submissions import SubmissionError
from storage.models import (
    ActivityReport,
    Contest,
    Entry,
    EntryStatus,
    MediaAsset,
    ReportStatus,
    Upload,
    WorkType,
)
from storage.objects import ObjectStore, original_key
from storage.settings import Settings
from tests.factories import PASSWORD, make_entry, make_user, unique
from tests.fleet import s3_client
from tests.test_reports import jpeg, log_in, report_of
from web import create_app

pytestmark = pytest.mark.integration

CHUNK = 5 * 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


@pytest.fixture()
def tus_app(settings: Settings, object_store: ObjectStore) -> Iterator[Flask]:
    app = create_app(
        {"SETTINGS": dataclasses.replace(settings, upload_chunk_bytes=CHUNK), "TESTING": True}
    )
    yield app
    app.extensions["footprints.engine"].dispose()


def _contest(session: Session) -> Contest:
    now = datetime.now(UTC)
    contest = Contest(
        slug=unique("accept-"),
        title="t",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
    )
    session.add(contest)
    session.commit()
    return contest


def _objects(settings: Settings, prefix: str) -> list[str]:
    client = s3_client(settings)
    found = client.list_objects(settings.bucket_originals, prefix=prefix, recursive=True)
    return [o.object_name or "" for o in found]


def _start(client: FlaskClient, entry_id: int, auth: tuple[str, str], length: int) -> str:
    response = client.post(
        f"/api/v1/entries/{entry_id}/uploads",
        headers={**TUS, "Upload-Length": str(length)},
        auth=auth,
    )
    assert response.status_code == 201, response.get_json()
    return str(response.headers["Location"])


def _patch(client: FlaskClient, url: str, offset: int, data: bytes, auth: tuple[str, str]) -> Any:
    headers = {
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
    }
    return client.patch(url, data=data, headers=headers, auth=auth)


@pytest.mark.parametrize(
    "head",
    [
        b"GIF89a" + b"\0" * 10,  # its "G" passes for an MPEG-TS sync byte
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",  # a HEIC photo opens like an MP4
        b"\xff\xd8\xff\xe0" + b"\0" * 12,  # a JPEG
    ],
)
def test_a_tus_upload_is_sniffed_as_the_one_accept_path_does(
    tus_app: Flask, session: Session, head: bytes
) -> None:
    user = make_user(session)
    entry = make_entry(session, user)
    auth = (user.username, PASSWORD)
    client = tus_app.test_client()
    body = head + os.urandom(1024 * 1024)
    url = _start(client, entry.id, auth, len(body))
    refused = _patch(client, url, 0, body, auth)
    assert refused.status_code == 415 and "不是视频文件" in refused.get_json()["error"]
    assert client.head(url, headers=TUS, auth=auth).status_code == 404
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []


def test_a_tus_upload_whose_entry_became_a_photo_entry_is_not_kept(
    tus_app: Flask, session: Session, settings: Settings
) -> None:
    user = make_user(session)
    entry = make_entry(session, user, _contest(session))
    auth = (user.username, PASSWORD)
    client = tus_app.test_client()
    body = MP4_HEAD + os.urandom(CHUNK)
    url = _start(client, entry.id, auth, len(body))
    assert _patch(client, url, 0, body[:CHUNK], auth).status_code == 204
    entry.work_type = WorkType.PHOTO  # changed in another tab while the video was uploading
    session.commit()
    refused = _patch(client, url, CHUNK, body[CHUNK:], auth)
    assert refused.status_code == 409 and "不能上传视频" in refused.get_json()["error"]
    assert _objects(settings, f"entries/{entry.id}/") == []
    session.expire_all()
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []
    assert session.scalars(select(Upload).where(Upload.entry_id == entry.id)).all() == []


def test_a_tus_upload_refused_after_its_parts_were_joined_leaves_nothing(
    tus_app: Flask,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = make_user(session)
    entry = make_entry(session, user, _contest(session))
    auth = (user.username, PASSWORD)
    client = tus_app.test_client()
    body = MP4_HEAD + os.urandom(1024 * 1024)
    url = _start(client, entry.id, auth, len(body))
    real = ObjectStore.complete_multipart

    def withdrawn_while_joining(self: ObjectStore, *args: Any) -> int:
        size = real(self, *args)
        with session_factory() as other:
            other.get_one(Entry, entry.id).status = EntryStatus.WITHDRAWN
            other.commit()
        return size

    monkeypatch.setattr(ObjectStore, "complete_multipart", withdrawn_while_joining)
    refused = _patch(client, url, 0, body, auth)
    assert refused.status_code == 409 and "已撤回" in refused.get_json()["error"]
    assert _objects(settings, f"entries/{entry.id}/") == []
    session.expire_all()
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []


def test_a_video_refused_after_streaming_is_deleted(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    object_store: ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = make_user(session)
    entry = make_entry(session, user, _contest(session))
    real = ObjectStore.put_stream

    def closed_while_streaming(self: ObjectStore, *args: Any, **kwargs: Any) -> Any:
        stored = real(self, *args, **kwargs)
        with session_factory() as other:
            other.get_one(Contest, entry.contest_id).closes_at = datetime.now(UTC)
            other.commit()
        return stored

    monkeypatch.setattr(ObjectStore, "put_stream", closed_while_streaming)
    sent: list[int] = []
    original = Original(io.BytesIO(MP4_HEAD + b"\0" * 4096), original_key(entry.id, unique("v")))
    with pytest.raises(SubmissionError, match="截止"):
        accept_original(
            session, object_store, settings, entry, original, lambda s, j: bool(sent.append(j.id))
        )
    assert sent == []  # nothing published
    assert _objects(settings, f"entries/{entry.id}/") == []
    session.expire_all()
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []


def test_a_report_file_refused_after_streaming_is_deleted(
    client: FlaskClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = make_user(session)
    report = report_of(
        session, settings, owner, _contest(session), held_on=date.today().isoformat()
    )
    log_in(client, owner)
    real = ObjectStore.put_stream

    def submitted_while_streaming(self: ObjectStore, *args: Any, **kwargs: Any) -> Any:
        stored = real(self, *args, **kwargs)
        with session_factory() as other:
            other.get_one(ActivityReport, report.id).status = ReportStatus.SUBMITTED
            other.commit()
        return stored

    monkeypatch.setattr(ObjectStore, "put_stream", submitted_while_streaming)
    response = client.post(
        f"/reports/{report.id}/files",
        data={"files": [(io.BytesIO(jpeg()), "a.jpg")]},
        follow_redirects=True,
    )
    assert "报送正在审核中" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get_one(ActivityReport, report.id).files == []
    assert _objects(settings, f"reports/{report.id}/") == []
