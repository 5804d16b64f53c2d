"""The job of photo, comic and story entries, with the real S3 and database: every piece's
images made once, refusals naming the piece, removed pieces pruned."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import threading
import uuid
from pathlib import Path
from typing import Any

import pillow_heif
import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

import worker.piece_jobs
from judging.pieces import add_piece, remove_piece
from judging.works import piece_views
from storage.models import AssetKind, Entry, EntryStatus, Job, JobState, MediaAsset, WorkType
from storage.objects import ObjectStore, original_key
from storage.outbox import OutboxMessage
from storage.retention import find_orphans, prune_entry
from storage.settings import Settings
from tests.factories import make_entry, make_user, unique
from tests.fleet import wait_for
from web.mail_catcher import Catcher
from web.outbox_task import deliver
from worker.jobs import process_job

pytestmark = pytest.mark.integration


def jpeg(
    size: tuple[int, int] = (1200, 900), colour: tuple[int, int, int] = (200, 40, 40)
) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", size, colour).save(data, "JPEG")
    return data.getvalue()


def png(size: tuple[int, int] = (800, 600)) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", size, (20, 160, 60)).save(data, "PNG")
    return data.getvalue()


def heic() -> bytes:
    data = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (640, 480), (30, 60, 200))).save(data, quality=60)
    return data.getvalue()


def pdf(pages: int) -> bytes:
    images = [Image.new("RGB", (600, 800), (40 * n, 90, 90)) for n in range(pages)]
    data = io.BytesIO()
    images[0].save(data, "PDF", save_all=True, append_images=images[1:])
    return data.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def piece_entry(session: Session, work_type: WorkType, blind: bool = False) -> Entry:
    entry = make_entry(session, make_user(session))
    entry.work_type = work_type
    entry.contest.blind = blind
    session.commit()
    return entry


def add(
    session: Session, store: ObjectStore, settings: Settings, entry: Entry, data: bytes, tmp: Path
) -> Job:
    path = tmp / uuid.uuid4().hex
    path.write_bytes(data)
    key = original_key(entry.id, uuid.uuid4().hex)
    stored = store.put_file(settings.bucket_originals, key, str(path), "application/octet-stream")
    return add_piece(session, entry, stored, settings, filename=path.name)


def images_of(session: Session, entry_id: int) -> list[MediaAsset]:
    session.expire_all()
    query = (
        select(MediaAsset)
        .where(MediaAsset.entry_id == entry_id, MediaAsset.kind == AssetKind.IMAGE)
        .order_by(MediaAsset.object_key)
    )
    return list(session.scalars(query))


def run(
    factory: sessionmaker[Session], store: ObjectStore, settings: Settings, job: Job
) -> JobState:
    return process_job(factory, store, settings, job.id)


def run_all(
    session: Session,
    factory: sessionmaker[Session],
    store: ObjectStore,
    settings: Settings,
    entry: Entry,
) -> JobState:
    """Run every queued job of the entry in turn, as the fleet would; the newest's state."""
    session.expire_all()
    queued = session.scalars(
        select(Job).where(Job.entry_id == entry.id, Job.state == JobState.QUEUED).order_by(Job.id)
    ).all()
    states = [process_job(factory, store, settings, job.id) for job in queued]
    return states[-1]


def test_a_photo_series_gets_every_size_of_every_photo(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.PHOTO)
    jobs = [
        add(session, object_store, settings, entry, data, tmp_path)
        for data in (jpeg(), png(), heic())
    ]
    assert run(session_factory, object_store, settings, jobs[-1]) is JobState.READY
    session.expire_all()
    assert entry.status is EntryStatus.READY
    assert jobs[-1].percent == 100.0
    views = piece_views(entry)
    assert [len(view.pages) for view in views] == [1, 1, 1]
    assert [sorted(view.pages[0].sizes) for view in views] == [[480, 1080, 2048]] * 3
    first = views[0].pages[0].sizes[2048]
    assert (first.width, first.height) == (1200, 900)
    assert first.label == "001_2048"
    assert first.object_key.endswith("/001_2048.jpg")
    assert first.source_key == views[0].piece.source_key
    for image in images_of(session, entry.id):
        assert object_store.exists(settings.bucket_assets, image.object_key)
        assert image.content_type == "image/jpeg" and image.bytes > 0 and image.sha256
    # The older jobs of the same entry find nothing left to do and change nothing.
    before = [(a.object_key, a.sha256) for a in images_of(session, entry.id)]
    assert run(session_factory, object_store, settings, jobs[0]) is JobState.READY
    assert [(a.object_key, a.sha256) for a in images_of(session, entry.id)] == before
    session.expire_all()
    assert entry.status is EntryStatus.READY


def test_a_redelivered_job_repeats_nothing_and_keeps_one_set_of_rows(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = piece_entry(session, WorkType.PHOTO)
    add(session, object_store, settings, entry, jpeg(), tmp_path)
    job = add(session, object_store, settings, entry, png(), tmp_path)
    assert run(session_factory, object_store, settings, job) is JobState.READY
    first = [a.object_key for a in images_of(session, entry.id)]
    assert len(first) == 6
    # A crash after storing: the message comes again while the row still says running.
    session.refresh(job)
    job.state = JobState.RUNNING
    session.commit()

    def must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a done piece was processed again")

    monkeypatch.setattr(worker.piece_jobs, "process_image", must_not_run)
    assert run(session_factory, object_store, settings, job) is JobState.READY
    assert [a.object_key for a in images_of(session, entry.id)] == first


def test_a_crash_mid_piece_is_redone_under_the_same_keys(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.PHOTO)
    job = add(session, object_store, settings, entry, jpeg(), tmp_path)
    assert run(session_factory, object_store, settings, job) is JobState.READY
    keys = [a.object_key for a in images_of(session, entry.id)]
    # The rows went (as if the crash came before recording them); the objects stayed.
    session.query(MediaAsset).filter(
        MediaAsset.entry_id == entry.id, MediaAsset.kind == AssetKind.IMAGE
    ).delete()
    session.refresh(job)
    job.state = JobState.RUNNING
    session.commit()
    assert run(session_factory, object_store, settings, job) is JobState.READY
    assert [a.object_key for a in images_of(session, entry.id)] == keys


def test_a_refused_photo_is_named_and_the_entry_rejected(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.PHOTO)
    add(session, object_store, settings, entry, jpeg(), tmp_path)
    add(session, object_store, settings, entry, png(), tmp_path)
    job = add(session, object_store, settings, entry, SVG, tmp_path)
    assert run_all(session, session_factory, object_store, settings, entry) is JobState.REJECTED
    session.expire_all()
    assert job.reason.startswith("第 3 张照片：SVG/XML 文件不是可接受的图片格式")
    assert "(photo 3: an SVG/XML file is not an accepted image" in job.reason
    assert job.reason_code == "not_image"
    assert entry.status is EntryStatus.REJECTED
    # The good photos are done and stay; the refused one keeps its original for now.
    assert [len(v.pages) for v in piece_views(entry)] == [1, 1, 0]
    bad = entry.pieces[2]
    assert object_store.exists(settings.bucket_originals, bad.source_key)

    # Removing it queues a job that finds the rest done: ready, and the refused file goes.
    again = remove_piece(session, entry, bad.id)
    assert again is not None
    assert run_all(session, session_factory, object_store, settings, entry) is JobState.READY
    session.expire_all()
    assert entry.status is EntryStatus.READY
    assert not object_store.exists(settings.bucket_originals, bad.source_key)
    originals = session.scalars(
        select(MediaAsset.source_key).where(
            MediaAsset.entry_id == entry.id, MediaAsset.kind == AssetKind.ORIGINAL
        )
    ).all()
    assert sorted(originals) == sorted(p.source_key for p in entry.pieces)


def test_a_pdf_is_no_photo(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.STORY)
    job = add(session, object_store, settings, entry, pdf(1), tmp_path)
    assert run(session_factory, object_store, settings, job) is JobState.REJECTED
    session.refresh(job)
    assert job.reason.startswith("第 1 张照片：这里只接受照片")


def test_a_comic_of_a_pdf_and_an_image_is_drawn_page_by_page(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.COMIC)
    add(session, object_store, settings, entry, pdf(3), tmp_path)
    job = add(session, object_store, settings, entry, jpeg((900, 1200)), tmp_path)
    assert run(session_factory, object_store, settings, job) is JobState.READY
    session.expire_all()
    views = piece_views(entry)
    assert [[p.number for p in view.pages] for view in views] == [[1, 2, 3], [1]]
    labels = sorted(a.label for a in images_of(session, entry.id))
    assert labels.count("002_1080") == 1 and labels.count("001_480") == 2
    page = views[0].pages[1].sizes[2048]
    assert max(page.width or 0, page.height or 0) == 2048
    assert entry.status is EntryStatus.READY


def test_a_comic_over_the_page_limit_is_refused_naming_the_pdf(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    tight = dataclasses.replace(settings, comic_max_pages=3)
    entry = piece_entry(session, WorkType.COMIC)
    add(session, object_store, tight, entry, jpeg(), tmp_path)
    job = add(session, object_store, tight, entry, pdf(3), tmp_path)
    assert run(session_factory, object_store, tight, job) is JobState.REJECTED
    session.expire_all()
    assert job.reason.startswith(
        "第 2 个文件（PDF）：PDF 共 3 页，超过漫画页数上限 3 页（其他文件已占 1 页）"
    )
    assert job.reason_code == "too_many_pages"
    assert entry.status is EntryStatus.REJECTED


def test_a_comic_image_refusal_names_the_file(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.COMIC)
    add(session, object_store, settings, entry, jpeg(), tmp_path)
    job = add(session, object_store, settings, entry, b"GIF89a" + b"\x00" * 100, tmp_path)
    assert run(session_factory, object_store, settings, job) is JobState.REJECTED
    session.refresh(job)
    assert job.reason.startswith("第 2 个文件（图片）：GIF 文件不是可接受的图片格式")


def test_a_blind_contest_gets_no_number_in_its_images(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numbers: list[int | None] = []
    real = worker.piece_jobs.process_image

    def recording(source: str, out: str, s: Settings, number: int | None, page: int = 1) -> Any:
        numbers.append(number)
        return real(source, out, s, number, page=page)

    monkeypatch.setattr(worker.piece_jobs, "process_image", recording)
    for blind in (True, False):
        entry = piece_entry(session, WorkType.PHOTO, blind=blind)
        job = add(session, object_store, settings, entry, jpeg(), tmp_path)
        assert run(session_factory, object_store, settings, job) is JobState.READY
    assert numbers == [None, entry.number]


def test_a_job_whose_pieces_were_all_removed_leaves_a_draft(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.PHOTO)
    job = add(session, object_store, settings, entry, jpeg(), tmp_path)
    key = entry.pieces[0].source_key
    assert remove_piece(session, entry, entry.pieces[0].id) is None
    assert run(session_factory, object_store, settings, job) is JobState.READY
    session.expire_all()
    assert entry.status is EntryStatus.DRAFT
    assert not object_store.exists(settings.bucket_originals, key)


def test_removed_pieces_are_kept_while_a_job_runs_and_pruned_after(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.PHOTO)
    add(session, object_store, settings, entry, jpeg(), tmp_path)
    add(session, object_store, settings, entry, png(), tmp_path)
    assert run_all(session, session_factory, object_store, settings, entry) is JobState.READY
    gone = entry.pieces[0]
    gone_key = gone.source_key
    gone_images = [a.object_key for a in images_of(session, entry.id) if a.source_key == gone_key]
    assert len(gone_images) == 3
    queued = remove_piece(session, entry, gone.id)
    assert queued is not None
    # Its job is queued: nothing is deleted yet.
    assert prune_entry(session, object_store, entry.id) == []
    assert object_store.exists(settings.bucket_originals, gone_key)
    assert run_all(session, session_factory, object_store, settings, entry) is JobState.READY
    for key in gone_images:
        assert not object_store.exists(settings.bucket_assets, key)
    assert not object_store.exists(settings.bucket_originals, gone_key)
    kept = entry.pieces[0].source_key
    assert object_store.exists(settings.bucket_originals, kept)
    assert all(a.source_key == kept for a in images_of(session, entry.id))


def test_the_orphan_sweep_keeps_current_pieces(
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.PHOTO)
    job = add(session, object_store, settings, entry, jpeg(), tmp_path)
    assert run(session_factory, object_store, settings, job) is JobState.READY
    piece_key = entry.pieces[0].source_key
    # Even a piece whose original row went missing keeps its file.
    session.query(MediaAsset).filter(MediaAsset.object_key == piece_key).delete()
    session.commit()
    stray = original_key(entry.id, "never-recorded")
    path = tmp_path / "stray"
    path.write_bytes(b"x")
    object_store.put_file(settings.bucket_originals, stray, str(path), "image/jpeg")
    orphans, _parts = find_orphans(session, object_store)
    unnamed = {obj.key for obj in orphans}
    assert stray in unnamed
    assert piece_key not in unnamed
    assert not unnamed & {a.object_key for a in images_of(session, entry.id)}


def test_the_contestant_is_told_of_images_not_of_a_video(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    app: Flask,
    mail_catcher: Catcher,
    tmp_path: Path,
) -> None:
    entry = piece_entry(session, WorkType.PHOTO)
    address = f"{unique('photographer')}@example.org"
    entry.email = address
    session.commit()
    job = add(session, object_store, settings, entry, SVG, tmp_path)
    assert run(session_factory, object_store, settings, job) is JobState.REJECTED
    session.expire_all()
    refusals = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.user_id == entry.owner_id, OutboxMessage.kind == "video_refused"
        )
    ).all()
    for row in refusals:
        deliver(app, session, row.id, settings)
    # A worker of this test process may deliver the "received" mail too: take the refusal.
    mail = wait_for(
        lambda: [m for m in mail_catcher.to(address) if "未通过检查" in str(m["Subject"])] or None,
        10,
        "the refusal mail",
    )[0]
    assert "文件未通过检查" in str(mail["Subject"])
    text = mail.get_body(("plain",)).get_content()
    assert "第 1 张照片：SVG/XML 文件不是可接受的图片格式" in text
    assert "视频" not in text.split("--")[0]
    assert f"/submit/{entry.id}#pieces" in text
    sms_rows = [r for r in refusals if r.channel == "sms"]
    assert len(sms_rows) == 1
    for row in sms_rows:
        session.refresh(row)
        sms = (Path(settings.sms_file_dir) / row.message_id).read_text(encoding="utf-8")
        assert "文件未通过检查" in sms and "视频" not in sms


def test_two_jobs_making_the_same_photo_at_once_record_it_once(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Photos uploaded in a burst queue a job each; two workers may run two of them at once,
    both making the first photo: both end ready, with one set of image rows."""
    entry = piece_entry(session, WorkType.PHOTO)
    first = add(session, object_store, settings, entry, jpeg(), tmp_path)
    second = add(session, object_store, settings, entry, png(), tmp_path)
    both_inside = threading.Barrier(2, timeout=60)
    make = worker.piece_jobs.process_image

    def in_step(*args: Any, **kwargs: Any) -> Any:
        outputs = make(*args, **kwargs)
        if kwargs.get("page", 1) == 1 and threading.current_thread().name.startswith("job"):
            with contextlib.suppress(threading.BrokenBarrierError):
                both_inside.wait()  # both jobs now record the same photo together
        return outputs

    monkeypatch.setattr(worker.piece_jobs, "process_image", in_step)
    recording = threading.Barrier(2, timeout=5)

    def meet_before_recording(recorder: Session) -> None:
        # Without the entry's row lock both jobs would get here together and insert the same
        # rows; with it the second waits for the first's commit, and this wait times out.
        new_images = [a for a in recorder.new if isinstance(a, MediaAsset)]
        if new_images and threading.current_thread().name.startswith("job"):
            with contextlib.suppress(threading.BrokenBarrierError):
                recording.wait()

    event.listen(session_factory, "before_commit", meet_before_recording)

    states: dict[int, JobState] = {}

    def run_job(job_id: int) -> None:
        states[job_id] = process_job(session_factory, object_store, settings, job_id)

    threads = [
        threading.Thread(target=run_job, args=(job.id,), name=f"job{job.id}")
        for job in (first, second)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join(120)
    finally:
        event.remove(session_factory, "before_commit", meet_before_recording)
    assert states == {first.id: JobState.READY, second.id: JobState.READY}
    keys = [a.object_key for a in images_of(session, entry.id)]
    assert len(keys) == len(set(keys)) == 6
    session.expire_all()
    assert entry.status is EntryStatus.READY
