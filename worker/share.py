"""Share posters of gallery entries: made once by the short-task worker, cached in S3.

The object key holds the fingerprint of everything the poster shows (title, collective,
contest, address, the frame's sha), so the web knows from the entry alone whether today's
poster exists, and a new title makes a new image. A redelivered or repeated task finds its
row and does nothing; the newest poster replaces the entry's older ones (rows first, then
objects, as storage/retention does).
"""

from __future__ import annotations

import io
import logging

from celery import Task
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judging.works import all_pages
from storage.database import session_scope
from storage.models import AssetKind, Entry, JobState, MediaAsset
from storage.objects import ObjectStore, ObjectStoreError
from worker.celery_app import celery
from worker.media.share_poster import ShareCard, draw_share_poster, fingerprint
from worker.queues import SHARE_POSTER_TASK
from worker.tasks import TRANSIENT, _resources

log = logging.getLogger(__name__)
FRAME_MAX_BYTES = 16 * 1024 * 1024
CONTENT_TYPE = "image/png"


def shown_source(entry: Entry) -> str:
    """The original whose assets the gallery shows: the newest one that finished processing."""
    ready = [job for job in entry.jobs if job.state is JobState.READY]
    return ready[-1].source_key if ready else ""


def frame_asset(entry: Entry) -> MediaAsset | None:
    """The video poster the share poster is made around (the large one where there is one);
    a photo, comic or story entry's first image (1080 px) instead."""
    if entry.work_type.has_pieces:
        pages = all_pages(entry)
        return pages[0].best(1080) if pages else None
    posters = {a.label: a for a in entry.assets_from(shown_source(entry), AssetKind.POSTER)}
    return posters.get("poster_large") or next(iter(posters.values()), None)


def share_card(entry: Entry, url: str) -> ShareCard:
    """What the poster shows: what the gallery page shows of the entry."""
    return ShareCard(entry.number, entry.title, entry.collective, entry.contest.title, url)


def share_poster_key(entry: Entry, url: str) -> str:
    """Where the poster of the entry as it is now, pointing at `url`, is stored."""
    frame = frame_asset(entry)
    sha = fingerprint(share_card(entry, url), frame.sha256 if frame else "")
    return f"entries/{entry.id}/share/{sha}.png"


def find_share_poster(session: Session, entry: Entry, url: str) -> MediaAsset | None:
    """The entry's current share poster, or None when it is still to be made."""
    key = share_poster_key(entry, url)
    return session.scalar(select(MediaAsset).where(MediaAsset.object_key == key))


def make_share_poster(
    session: Session,
    store: ObjectStore,
    font_path: str,
    entry_id: int,
    url: str,
    expected_key: str | None = None,
) -> MediaAsset | None:
    """Draw, store and record the entry's share poster unless it exists.

    None without the entry, or when it is no longer what the web saw (`expected_key`, the
    key the web computed): its title changed since, or the message came from another
    database's web. The next click asks for the poster of the entry as it is then.
    """
    entry = session.get(Entry, entry_id)
    if entry is None:
        return None
    key = share_poster_key(entry, url)
    if expected_key is not None and key != expected_key:
        log.info("entry %s: changed since its share poster was asked for; not made", entry_id)
        return None
    existing = find_share_poster(session, entry, url)
    if existing is not None:
        return existing
    frame = frame_asset(entry)
    picture = None
    if frame is not None:
        data = store.get_bytes(frame.bucket, frame.object_key, FRAME_MAX_BYTES)
        picture = Image.open(io.BytesIO(data))
    image = draw_share_poster(share_card(entry, url), picture, font_path)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    buffer.seek(0)
    bucket = store.settings.bucket_assets
    stored = store.put_stream(bucket, key, buffer, CONTENT_TYPE)
    older = [a for a in entry.assets if a.kind == AssetKind.SHARE_POSTER]
    asset = MediaAsset(
        entry_id=entry.id,
        kind=AssetKind.SHARE_POSTER,
        label="share_poster",
        bucket=bucket,
        object_key=key,
        source_key=shown_source(entry),
        content_type=CONTENT_TYPE,
        bytes=stored.bytes,
        sha256=stored.sha256,
        width=image.width,
        height=image.height,
    )
    doomed = [(a.bucket, a.object_key) for a in older]
    for old in older:
        session.delete(old)
    session.add(asset)
    try:
        session.commit()
    except IntegrityError:
        # Another worker recorded the same poster meanwhile: same key, same image.
        session.rollback()
        return find_share_poster(session, session.get_one(Entry, entry_id), url)
    for old_bucket, old_key in doomed:
        try:
            store.delete(old_bucket, old_key)
        except ObjectStoreError as exc:
            log.warning(
                "entry %s: old share poster %s left for the sweep: %s", entry_id, old_key, exc
            )
    log.info("entry %s: share poster %s made", entry_id, key)
    return asset


@celery.task(bind=True, name=SHARE_POSTER_TASK, max_retries=5)
def share_poster(self: Task, entry_id: int, url: str, key: str) -> str:
    """Make entry `entry_id`'s share poster, stored at `key`, with a QR code of `url` (its
    gallery address)."""
    settings, factory, store = _resources()
    try:
        with session_scope(factory) as session:
            font = settings.watermark_font
            asset = make_share_poster(session, store, font, entry_id, url, key)
            return asset.object_key if asset else ""
    except TRANSIENT as exc:
        countdown = min(60, 2 * 2**self.request.retries)
        log.warning("entry %s: share poster not made, retry in %s s: %s", entry_id, countdown, exc)
        raise self.retry(exc=exc, countdown=countdown) from exc
