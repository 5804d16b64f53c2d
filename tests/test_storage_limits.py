"""What each user may store and start, and what the store keeps: against real S3 and ffmpeg."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from judging.submissions import record_original
from storage.models import AssetKind, Entry, EntryStatus, Job, JobState, MediaAsset, Upload
from storage.objects import ObjectStore, original_key
from storage.retention import sweep_orphans
from storage.settings import Settings, SettingsError
from tests.factories import PASSWORD, make_entry, make_user
from tests.fleet import s3_client
from tests.media import make_clip
from web import create_app
from worker.jobs import process_job

pytestmark = pytest.mark.integration

MIB = 1024**2
TUS = {"Tus-Resumable": "1.0.0"}
VIDEO_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def basic(user: Any) -> dict[str, str]:
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def start_tus(client: FlaskClient, entry: Entry, length: int) -> Any:
    return client.post(
        f"/api/v1/entries/{entry.id}/uploads",
        headers={**TUS, **basic(entry.owner), "Upload-Length": str(length)},
    )


@pytest.fixture()
def make_app(settings: Settings, object_store: ObjectStore) -> Iterator[Any]:
    """create_app with changed settings; every app made is disposed of afterwards."""
    apps: list[Flask] = []

    def make(**changes: Any) -> Flask:
        app = create_app(
            {
                "SETTINGS": dataclasses.replace(settings, **changes),
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["footprints.engine"].dispose()


def assets_of(session: Session, entry_id: int, source_key: str) -> list[MediaAsset]:
    session.expire_all()
    query = select(MediaAsset).where(
        MediaAsset.entry_id == entry_id, MediaAsset.source_key == source_key
    )
    return list(session.scalars(query))


def test_the_replaced_original_goes_once_the_new_one_is_ready(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = make_entry(session, make_user(session))
    clip = make_clip(tmp_path / "c.mp4", 320, 240, 1)
    bogus = tmp_path / "notes.mp4"
    bogus.write_bytes(b"these are notes, not a video\n" * 100)

    def upload(path: Path) -> Job:
        key = original_key(entry.id, uuid.uuid4().hex)
        stored = object_store.put_file(settings.bucket_originals, key, str(path), "video/mp4")
        return record_original(session, entry, stored)

    def kept(job: Job) -> list[str]:
        """The stored objects of an original and what was made from it."""
        assets = assets_of(session, entry.id, job.source_key)
        for asset in assets:
            assert object_store.exists(asset.bucket, asset.object_key), asset.object_key
        return sorted(a.kind.value for a in assets)

    def run(job: Job) -> JobState:
        return process_job(session_factory, object_store, settings, job.id)

    first = upload(clip)
    assert run(first) is JobState.READY
    made = kept(first)
    assert made.count("original") == 1 and "rendition" in made
    first_keys = [(a.bucket, a.object_key) for a in assets_of(session, entry.id, first.source_key)]

    # Two replacements; the newer one is ready first.
    second, third = upload(clip), upload(clip)
    assert run(third) is JobState.READY
    assert kept(first) == []
    assert not any(object_store.exists(bucket, key) for bucket, key in first_keys)
    assert kept(second) == ["original"]  # still to be processed: kept
    assert kept(third) == made

    # The older replacement finishes later: it replaces nothing and goes itself.
    assert run(second) is JobState.READY
    assert kept(second) == [] and kept(third) == made
    # Redelivered messages change nothing.
    assert run(second) is JobState.READY and run(third) is JobState.READY
    assert kept(second) == [] and kept(third) == made
    session.refresh(entry)
    assert entry.status is EntryStatus.READY

    # A replacement that is refused leaves the only good copy alone.
    fourth = upload(bogus)
    assert run(fourth) is JobState.REJECTED
    assert kept(third) == made and kept(fourth) == ["original"]

    # An operator retries the first job, whose original is gone: a reason, not five retries.
    session.refresh(first)
    first.state = JobState.QUEUED
    session.commit()
    assert run(first) is JobState.FAILED
    session.refresh(first)
    assert first.reason_code == "missing_original" and "原视频" in first.reason
    assert kept(third) == made


def test_bytes_in_flight_and_stored_are_capped_per_user(
    make_app: Any, session: Session, settings: Settings
) -> None:
    app = make_app(
        max_upload_bytes=8 * MIB,
        upload_chunk_bytes=5 * MIB,
        user_uploads_in_flight_mb=12,
        user_storage_limit_mb=20,
    )
    client = app.test_client()
    owner = make_user(session)
    one, two = make_entry(session, owner), make_entry(session, owner)

    started = start_tus(client, one, 8 * MIB)
    assert started.status_code == 201
    crowded = start_tus(client, two, 8 * MIB)
    assert crowded.status_code == 413
    assert "未完成的上传" in crowded.get_json()["error"]
    assert "12 MB" in crowded.get_json()["error"]
    # Somebody else's budget is their own.
    assert start_tus(client, make_entry(session, make_user(session)), 8 * MIB).status_code == 201

    # Cancelling frees the budget; originals already stored count against the other cap.
    cancel = client.delete(started.headers["Location"], headers={**TUS, **basic(owner)})
    assert cancel.status_code == 204
    session.add(
        MediaAsset(
            entry=two,
            kind=AssetKind.ORIGINAL,
            bucket=settings.bucket_originals,
            object_key=original_key(two.id, uuid.uuid4().hex),
            content_type="video/mp4",
            bytes=10 * MIB,
            sha256="",
        )
    )
    session.commit()
    assert start_tus(client, one, 8 * MIB).status_code == 201  # 10 + 8 of 20
    full = start_tus(client, two, 4 * MIB)  # in flight 12 of 12, but 22 of 20 stored
    assert full.status_code == 413 and "存储空间不足" in full.get_json()["error"]

    body = VIDEO_HEAD + bytes(4 * MIB)
    api = client.put(f"/api/v1/entries/{two.id}/video", data=body, headers=basic(owner))
    assert api.status_code == 413 and "存储空间不足" in api.get_json()["error"]
    # The form does not say the file's size first: the stream is cut at the budget.
    client.post("/auth/login", data={"username": owner.username, "password": PASSWORD})
    page = client.post(
        f"/submit/{two.id}/video",
        data={"video": (io.BytesIO(body), "big.mp4")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "存储空间不足" in page.get_data(as_text=True)
    session.expire_all()
    originals = select(MediaAsset).where(
        MediaAsset.entry_id.in_([one.id, two.id]), MediaAsset.kind == AssetKind.ORIGINAL
    )
    assert len(session.scalars(originals).all()) == 1  # only the row added above


@pytest.mark.parametrize(
    "changes",
    [
        {"user_storage_limit_mb": 100},
        {"user_uploads_in_flight_mb": 100},
        {"orphan_sweep_interval_seconds": 0},
    ],
)
def test_caps_that_no_file_of_the_largest_size_fits_are_refused(changes: dict[str, int]) -> None:
    with pytest.raises(SettingsError, match=next(iter(changes)).upper()):
        Settings(**changes)  # type: ignore[arg-type]


def test_the_upload_rate_limit_holds_across_app_instances(make_app: Any, session: Session) -> None:
    first = make_app(upload_rate_limit="3/hour").test_client()
    entry = make_entry(session, make_user(session))
    answers = [start_tus(first, entry, 1000) for _ in range(2)]
    # A second gunicorn process: an app of its own, on the same database.
    second = make_app(upload_rate_limit="3/hour").test_client()
    answers += [start_tus(second, entry, 1000) for _ in range(2)]
    answers.append(start_tus(first, entry, 1000))
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    assert "分钟后再试" in answers[3].get_json()["error"]
    assert 0 < int(answers[3].headers["Retry-After"]) <= 3600
    # The form and the API draw on the same budget; another user has their own.
    put = second.put(f"/api/v1/entries/{entry.id}/video", data=b"x", headers=basic(entry.owner))
    assert put.status_code == 429
    assert start_tus(second, make_entry(session, make_user(session)), 1000).status_code == 201
    for answer in answers[:3]:
        first.delete(answer.headers["Location"], headers={**TUS, **basic(entry.owner)})


@pytest.fixture()
def own_buckets(settings: Settings, object_store: ObjectStore) -> Iterator[Settings]:
    """Buckets of this test's own, so the sweep sees only what the test put there."""
    tag = uuid.uuid4().hex[:8]
    own = dataclasses.replace(
        settings,
        bucket_originals=f"fp-sweep-{tag}-originals",
        bucket_assets=f"fp-sweep-{tag}-assets",
    )
    ObjectStore(own).ensure_buckets()
    yield own
    client = s3_client(own)
    for bucket in (own.bucket_originals, own.bucket_assets):
        for upload in client._list_multipart_uploads(bucket).uploads:  # noqa: SLF001
            client._abort_multipart_upload(bucket, upload.object_name, upload.upload_id)  # noqa: SLF001
        for obj in client.list_objects(bucket, recursive=True):
            client.remove_object(bucket, obj.object_name or "")
        client.remove_bucket(bucket)


def test_the_sweep_removes_old_orphans_only(
    own_buckets: Settings, make_app: Any, session: Session
) -> None:
    own = own_buckets
    store = ObjectStore(own)
    client = s3_client(own)
    entry = make_entry(session, make_user(session))
    originals, assets = own.bucket_originals, own.bucket_assets

    def put(bucket: str, key: str, size: int = 1000) -> datetime:
        client.put_object(bucket, key, io.BytesIO(bytes(size)), size)
        modified = client.stat_object(bucket, key).last_modified
        assert modified is not None
        return modified

    named = original_key(entry.id, "named")
    named_asset = f"entries/{entry.id}/derived/named/720p.mp4"
    joined = original_key(entry.id, "joined-not-yet-recorded")
    for bucket, key, kind in (
        (originals, named, AssetKind.ORIGINAL),
        (assets, named_asset, AssetKind.RENDITION),
    ):
        put(bucket, key)
        session.add(
            MediaAsset(
                entry=entry,
                kind=kind,
                bucket=bucket,
                object_key=key,
                source_key=named,
                content_type="video/mp4",
                bytes=1000,
                sha256="",
            )
        )
    put(originals, joined)
    named_parts = store.start_multipart(originals, original_key(entry.id, "in-progress"), "x")
    for key in (joined, original_key(entry.id, "in-progress")):
        session.add(
            Upload(
                id=uuid.uuid4().hex,
                entry=entry,
                owner_id=entry.owner_id,
                length=1000,
                chunk_bytes=5 * MIB,
                bucket=originals,
                object_key=key,
                s3_upload_id=named_parts,
                etags=[],
            )
        )
    session.commit()
    store.start_multipart(originals, "entries/1/originals/abandoned-parts", "x")
    put(assets, "entries/1/derived/left-behind/poster_large.jpg", 2000)
    old_original = put(originals, "entries/1/originals/left-behind", 3000)  # the last old one
    # S3 keeps times to the second: the young orphan must be written a second later.
    young = put(originals, "entries/2/originals/uploading")
    while young <= old_original:
        time.sleep(0.2)
        young = put(originals, "entries/2/originals/uploading")
    # "Now" a day after a moment between the two, so the first orphans are older than a day.
    now = old_original + (young - old_original) / 2 + timedelta(days=1)

    def listed() -> dict[str, set[str]]:
        return {
            bucket: {o.object_name or "" for o in client.list_objects(bucket, recursive=True)}
            for bucket in (originals, assets)
        }

    everything = listed()
    dry = sweep_orphans(session, store, now=now, dry_run=True)
    assert (dry.orphans, dry.orphan_bytes) == (3, 6000)
    assert (dry.removed, dry.removed_bytes, dry.removed_parts) == (2, 5000, 1)
    assert listed() == everything
    report = sweep_orphans(session, store, now=now)
    assert (report.removed, report.removed_bytes, report.removed_parts) == (2, 5000, 1)
    assert listed() == {
        originals: {named, joined, "entries/2/originals/uploading"},
        assets: {named_asset},
    }
    pending = {u.object_name for u in client._list_multipart_uploads(originals).uploads}  # noqa: SLF001
    assert pending == {original_key(entry.id, "in-progress")}

    # The command line: the same figures, and nothing young is ever removed.
    runner = make_app(bucket_originals=originals, bucket_assets=assets).test_cli_runner()
    status = runner.invoke(args=["ops", "status", "--json"])
    assert status.exit_code == 0, status.output
    orphans = json.loads(status.output)["orphans"]
    assert (orphans["count"], orphans["bytes"], orphans["removable"]) == (1, 1000, 0)
    dry_cli = runner.invoke(args=["ops", "sweep", "--dry-run"])
    assert dry_cli.exit_code == 0 and "would remove 0 objects" in dry_cli.output
    assert runner.invoke(args=["ops", "sweep"]).exit_code == 0
    assert "entries/2/originals/uploading" in listed()[originals]
    text = runner.invoke(args=["ops", "status"]).output
    assert "ORPHANS  1 objects, 1000 B" in text


def test_the_storage_sweep_is_periodic_on_the_short_queue(settings: Settings) -> None:
    from celery import Celery

    from worker.celery_app import configure_celery
    from worker.queues import STORAGE_SWEEP_TASK

    app = configure_celery(
        Celery("probe"), dataclasses.replace(settings, orphan_sweep_interval_seconds=900)
    )
    entry = next(e for e in app.conf.beat_schedule.values() if e["task"] == STORAGE_SWEEP_TASK)
    assert entry["schedule"] == 900.0
    assert app.conf.task_routes[STORAGE_SWEEP_TASK] == {"queue": settings.short_queue}
