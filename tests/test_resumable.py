"""Resumable uploads (tus) through the app and the real S3 server."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Contest, Entry, EntryStatus, MediaAsset, Upload, utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from storage.uploads import drop_expired_uploads
from tests.factories import PASSWORD, make_entry, make_user, unique
from tests.fleet import s3_client
from web import create_app

pytestmark = pytest.mark.integration

CHUNK = 5 * 1024 * 1024
# An MP4 signature, then 12 MiB of noise: three parts of 5, 5 and 2 MiB.
BODY = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(12 * 1024 * 1024)
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture()
def tus_app(settings: Settings, object_store: ObjectStore) -> Iterator[Flask]:
    app = create_app(
        {"SETTINGS": dataclasses.replace(settings, upload_chunk_bytes=CHUNK), "TESTING": True}
    )
    yield app
    app.extensions["footprints.engine"].dispose()


def start(client: FlaskClient, entry_id: int, auth: tuple[str, str], length: int) -> str:
    name = base64.b64encode("我们的故事.mp4".encode()).decode()
    response = client.post(
        f"/api/v1/entries/{entry_id}/uploads",
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": f"filename {name}"},
        auth=auth,
    )
    assert response.status_code == 201, response.get_json()
    return response.headers["Location"]


def patch(
    client: FlaskClient,
    url: str,
    offset: int,
    data: bytes,
    auth: tuple[str, str],
    checksum: str | None = None,
):  # type: ignore[no-untyped-def]
    headers = {
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
    }
    if checksum is not None:
        headers["Upload-Checksum"] = checksum
    return client.patch(url, data=data, headers=headers, auth=auth)


def sha256_b64(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_an_interrupted_upload_resumes_and_stores_the_same_bytes(
    tus_app: Flask,
    session: Session,
    settings: Settings,
    object_store: ObjectStore,
    tmp_path: Path,
) -> None:
    user = make_user(session)
    entry = make_entry(session, user)
    auth = (user.username, PASSWORD)
    client = tus_app.test_client()
    url = start(client, entry.id, auth, len(BODY))

    first = BODY[:CHUNK]
    assert patch(client, url, 0, first, auth, sha256_b64(first)).status_code == 204
    # The link drops halfway through the second chunk: it is refused, nothing advances.
    dropped = patch(client, url, CHUNK, BODY[CHUNK : CHUNK + CHUNK // 2], auth)
    assert dropped.status_code == 400 and "从断点重新发送" in dropped.get_json()["error"]
    # A damaged chunk is refused by its checksum.
    damaged = patch(client, url, CHUNK, BODY[CHUNK : 2 * CHUNK], auth, sha256_b64(b"other"))
    assert damaged.status_code == 460
    # A new tab (a new client, same user) asks where to go on.
    fresh = tus_app.test_client()
    head = fresh.head(url, headers=TUS, auth=auth)
    assert head.headers["Upload-Offset"] == str(CHUNK)
    assert head.headers["Upload-Length"] == str(len(BODY))
    assert patch(fresh, url, CHUNK, BODY[:10], auth).status_code == 400  # wrong size
    assert patch(fresh, url, 0, first, auth).status_code == 409  # wrong offset
    assert patch(fresh, url, CHUNK, BODY[CHUNK : 2 * CHUNK], auth).status_code == 204
    last = patch(fresh, url, 2 * CHUNK, BODY[2 * CHUNK :], auth, sha256_b64(BODY[2 * CHUNK :]))
    assert last.status_code == 204
    assert last.headers["Upload-Offset"] == str(len(BODY))
    assert last.headers["Footprints-Entry"] == f"/submit/{entry.id}"

    session.expire_all()
    original = session.scalar(select(MediaAsset).where(MediaAsset.entry_id == entry.id))
    assert original is not None and original.bytes == len(BODY)
    copy = tmp_path / "stored"
    object_store.get_file(original.bucket, original.object_key, str(copy))
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == hashlib.sha256(BODY).hexdigest()
    upload = session.get(Upload, url.rsplit("/", 1)[1])
    assert upload is not None and upload.completed_at is not None
    assert upload.filename == "我们的故事.mp4"
    assert entry.latest_job() is not None


def test_a_file_that_is_not_a_video_is_refused_at_the_first_chunk(
    tus_app: Flask, session: Session
) -> None:
    user = make_user(session)
    entry = make_entry(session, user)
    auth = (user.username, PASSWORD)
    client = tus_app.test_client()
    text = b"hello, these are my notes\n" * 300_000
    url = start(client, entry.id, auth, len(text))
    refused = patch(client, url, 0, text[:CHUNK], auth)
    assert refused.status_code == 415 and "不是视频文件" in refused.get_json()["error"]
    assert client.head(url, headers=TUS, auth=auth).status_code == 404
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []


def test_uploads_are_private_limited_and_closed_after_the_deadline(
    tus_app: Flask, session: Session
) -> None:
    owner = make_user(session)
    entry = make_entry(session, owner)
    client = tus_app.test_client()
    url = start(client, entry.id, (owner.username, PASSWORD), len(BODY))
    stranger = (make_user(session).username, PASSWORD)
    assert client.head(url, headers=TUS, auth=stranger).status_code == 404
    assert patch(client, url, 0, BODY[:CHUNK], stranger).status_code == 404
    too_big = client.post(
        f"/api/v1/entries/{entry.id}/uploads",
        headers={**TUS, "Upload-Length": str(10**13)},
        auth=(owner.username, PASSWORD),
    )
    assert too_big.status_code == 413 and "文件过大" in too_big.get_json()["error"]
    closed = Contest(
        slug=unique("closed-"), title="t", closes_at=datetime.now(UTC) - timedelta(hours=1)
    )
    late = make_entry(session, owner, closed)
    refused = client.post(
        f"/api/v1/entries/{late.id}/uploads",
        headers={**TUS, "Upload-Length": "100"},
        auth=(owner.username, PASSWORD),
    )
    assert refused.status_code == 409 and "已截止" in refused.get_json()["error"]
    assert client.delete(url, headers=TUS, auth=(owner.username, PASSWORD)).status_code == 204
    assert client.head(url, headers=TUS, auth=(owner.username, PASSWORD)).status_code == 404


def test_abandoned_uploads_are_dropped(
    tus_app: Flask, session: Session, object_store: ObjectStore
) -> None:
    user = make_user(session)
    entry = make_entry(session, user)
    client = tus_app.test_client()
    url = start(client, entry.id, (user.username, PASSWORD), len(BODY))
    upload_id = url.rsplit("/", 1)[1]
    upload = session.get_one(Upload, upload_id)
    upload.updated_at = utcnow() - timedelta(days=2)
    session.commit()
    assert upload_id in drop_expired_uploads(session, object_store, timedelta(hours=24))
    session.expire_all()
    assert session.get(Upload, upload_id) is None


def test_a_part_cut_short_stores_nothing_and_can_be_sent_again(
    object_store: ObjectStore, settings: Settings
) -> None:
    import io

    from storage.objects import ShortBody

    bucket, key = settings.bucket_originals, f"tests/short-{unique('p')}"
    upload_id = object_store.start_multipart(bucket, key, "application/octet-stream")
    part = BODY[:CHUNK]
    with pytest.raises(ShortBody):
        object_store.stream_part(bucket, key, upload_id, 1, io.BytesIO(part[:1000]), CHUNK)
    result = object_store.stream_part(bucket, key, upload_id, 1, io.BytesIO(part), CHUNK)
    assert result.sha256 == hashlib.sha256(part).digest()
    assert object_store.complete_multipart(bucket, key, upload_id, [result.etag]) == CHUNK
    object_store.delete(bucket, key)


def test_a_failed_join_is_retried_with_an_empty_patch(
    tus_app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.objects import ObjectStoreError

    user = make_user(session)
    entry = make_entry(session, user)
    auth = (user.username, PASSWORD)
    client = tus_app.test_client()
    small = BODY[: 2 * 1024 * 1024]
    url = start(client, entry.id, auth, len(small))
    real = ObjectStore.complete_multipart

    def fail_once(self: ObjectStore, *args: Any) -> int:
        monkeypatch.setattr(ObjectStore, "complete_multipart", real)
        raise ObjectStoreError("S3 hiccup")

    monkeypatch.setattr(ObjectStore, "complete_multipart", fail_once)
    failed = patch(client, url, 0, small, auth)
    assert failed.status_code == 503 and failed.headers["Upload-Offset"] == str(len(small))
    done = patch(client, url, len(small), b"", auth)
    assert done.status_code == 204 and done.headers["Footprints-Entry"] == f"/submit/{entry.id}"
    again = patch(client, url, len(small), b"", auth)  # a late duplicate changes nothing
    assert again.status_code == 204
    session.expire_all()
    assert (
        len(session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all()) == 1
    )


def _leftovers(settings: Settings, entry_id: int) -> tuple[list[str], list[str]]:
    """Objects and unfinished multipart uploads under an entry's originals, straight from S3."""
    client = s3_client(settings)
    prefix = f"entries/{entry_id}/"
    objects = [
        o.object_name or ""
        for o in client.list_objects(settings.bucket_originals, prefix=prefix, recursive=True)
    ]
    pending = client._list_multipart_uploads(settings.bucket_originals, prefix=prefix)  # noqa: SLF001
    return objects, [u.object_name or "" for u in pending.uploads]


def _own_contest(session: Session) -> Contest:
    now = datetime.now(UTC)
    contest = Contest(
        slug=unique("own-"),
        title="t",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
    )
    session.add(contest)
    session.commit()
    return contest


@pytest.mark.parametrize("change", ["deadline", "withdrawn"])
@pytest.mark.parametrize("part", ["middle", "last"])
def test_a_part_after_the_deadline_or_a_withdrawal_is_refused_and_leaves_nothing(
    tus_app: Flask, session: Session, settings: Settings, change: str, part: str
) -> None:
    user = make_user(session)
    entry = make_entry(session, user, _own_contest(session))
    auth = (user.username, PASSWORD)
    client = tus_app.test_client()
    body = BODY if part == "middle" else BODY[: CHUNK + 1024 * 1024]
    url = start(client, entry.id, auth, len(body))
    assert patch(client, url, 0, body[:CHUNK], auth).status_code == 204
    if change == "deadline":
        entry.contest.closes_at = datetime.now(UTC) - timedelta(seconds=1)
    else:
        entry.status = EntryStatus.WITHDRAWN
    session.commit()

    refused = patch(client, url, CHUNK, body[CHUNK : 2 * CHUNK], auth)
    assert refused.status_code == 409
    assert ("已截止" if change == "deadline" else "已撤回") in refused.get_json()["error"]
    assert "Upload-Offset" not in refused.headers  # final: the uploader stops and says why
    assert client.head(url, headers=TUS, auth=auth).status_code == 404
    assert _leftovers(settings, entry.id) == ([], [])
    session.expire_all()
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []
    assert session.scalars(select(Upload).where(Upload.entry_id == entry.id)).all() == []


def test_a_withdrawal_while_the_last_part_streams_stores_nothing(
    tus_app: Flask,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = make_user(session)
    entry = make_entry(session, user, _own_contest(session))
    auth = (user.username, PASSWORD)
    client = tus_app.test_client()
    small = BODY[: 2 * 1024 * 1024]
    url = start(client, entry.id, auth, len(small))
    real = ObjectStore.stream_part

    def withdrawn_meanwhile(self: ObjectStore, *args: Any) -> Any:
        # Another tab withdraws the entry while this part is on its way.
        with session_factory() as other:
            other.get_one(Entry, entry.id).status = EntryStatus.WITHDRAWN
            other.commit()
        return real(self, *args)

    monkeypatch.setattr(ObjectStore, "stream_part", withdrawn_meanwhile)
    refused = patch(client, url, 0, small, auth)
    assert refused.status_code == 409 and "已撤回" in refused.get_json()["error"]
    assert _leftovers(settings, entry.id) == ([], [])
    session.expire_all()
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []
    assert session.scalars(select(Upload).where(Upload.entry_id == entry.id)).all() == []


@pytest.mark.parametrize("length", ["¹", "²³", "٣٠٠", "1e3", "-100", "0x10", " ", "9" * 40])
def test_a_length_that_is_not_ascii_digits_is_refused(
    tus_app: Flask, session: Session, length: str
) -> None:
    owner = make_user(session)
    entry = make_entry(session, owner)
    answer = tus_app.test_client().post(
        f"/api/v1/entries/{entry.id}/uploads",
        headers={**TUS, "Upload-Length": length},
        auth=(owner.username, PASSWORD),
    )
    # isdigit() took "¹" and int() then failed with a 500.
    assert answer.status_code in (400, 413) and answer.get_json()["error"], answer.status_code
