"""What the object store keeps: an entry's current original (and one being processed), and
nothing that no row names.

Rows go first and objects after: an object whose delete failed is then an orphan, which the
sweep removes a day later, never a row that points at nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import (
    AssetKind,
    Entry,
    EntryPiece,
    Job,
    JobState,
    MediaAsset,
    ReportFile,
    Upload,
    WorkType,
    utcnow,
)
from storage.objects import Multipart, ObjectInfo, ObjectStore, ObjectStoreError

log = logging.getLogger(__name__)
# Younger objects may belong to an upload or a job that has not recorded them yet.
ORPHAN_MIN_AGE = timedelta(days=1)


def replaced_sources(jobs: Sequence[Job]) -> set[str]:
    """The originals (by key) among an entry's jobs, oldest first, that may be deleted.

    Kept: the newest ready one (what everyone is shown), the newest upload whatever became
    of it, and every one still queued or running. Of the rest, one goes once a newer
    original is ready, or when it was refused (a refusal is final). A failed one stays until
    then: an operator may still run it again.
    """
    if not jobs:
        return set()
    ready = [job for job in jobs if job.state is JobState.READY]
    newest_ready = ready[-1].id if ready else None
    keep = {jobs[-1].source_key} | {job.source_key for job in jobs if not job.state.finished}
    if ready:
        keep.add(ready[-1].source_key)
    last: dict[str, Job] = {job.source_key: job for job in jobs}  # each source's newest job
    return {
        source
        for source, job in last.items()
        if source not in keep
        and (job.state is JobState.REJECTED or (newest_ready is not None and job.id < newest_ready))
    }


def removed_pieces(session: Session, entry_id: int) -> set[str]:
    """Originals (by key) of a photo, comic or story entry that no current piece names.

    A piece's original and its images are kept while an EntryPiece names it; once removed,
    they go, but never while a job of the entry is queued or running (it may be reading them).
    """
    busy = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.entry_id == entry_id, Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
    )
    if busy:
        return set()
    current = select(EntryPiece.source_key).where(EntryPiece.entry_id == entry_id)
    return set(
        session.scalars(
            select(MediaAsset.source_key).where(
                MediaAsset.entry_id == entry_id,
                MediaAsset.source_key != "",
                MediaAsset.source_key.not_in(current),
            )
        )
    )


def prune_entry(session: Session, store: ObjectStore, entry_id: int) -> list[str]:
    """Delete the entry's replaced originals and what was made from them; their keys.

    A video's replaced originals follow `replaced_sources`; an entry with pieces keeps what
    its current pieces name (`removed_pieces`). Idempotent: a redelivered job or a second
    sweep finds nothing more to do. Commits.
    """
    work_type = session.scalar(select(Entry.work_type).where(Entry.id == entry_id))
    if work_type is not None and work_type.has_pieces:
        sources = removed_pieces(session, entry_id)
    else:
        jobs = session.scalars(select(Job).where(Job.entry_id == entry_id).order_by(Job.id)).all()
        sources = replaced_sources(jobs)
    if not sources:
        return []
    assets = session.scalars(
        select(MediaAsset).where(
            MediaAsset.entry_id == entry_id, MediaAsset.source_key.in_(sources)
        )
    ).all()
    doomed = [(asset.bucket, asset.object_key) for asset in assets]
    session.execute(delete(MediaAsset).where(MediaAsset.id.in_([asset.id for asset in assets])))
    session.commit()
    for bucket, key in doomed:
        try:
            store.delete(bucket, key)
        except ObjectStoreError as exc:
            log.warning("entry %s: %s/%s left for the orphan sweep: %s", entry_id, bucket, key, exc)
    if doomed:
        log.info("entry %s: removed %s objects of replaced originals", entry_id, len(doomed))
    return [key for _bucket, key in doomed]


def prune_all(session: Session, store: ObjectStore) -> int:
    """Prune every entry that holds more than one original, or an original no piece names
    (a photo, comic or story entry whose last piece was removed); the objects removed."""
    several = (
        select(MediaAsset.entry_id)
        .where(MediaAsset.kind == AssetKind.ORIGINAL)
        .group_by(MediaAsset.entry_id)
        .having(func.count() > 1)
    )
    unnamed = (
        select(MediaAsset.entry_id)
        .join(Entry, Entry.id == MediaAsset.entry_id)
        .where(
            MediaAsset.kind == AssetKind.ORIGINAL,
            Entry.work_type != WorkType.VIDEO,
            MediaAsset.source_key.not_in(select(EntryPiece.source_key)),
        )
    )
    entries = sorted(set(session.scalars(several)) | set(session.scalars(unnamed)))
    return sum(len(prune_entry(session, store, entry_id)) for entry_id in entries)


@dataclass
class OrphanReport:
    """Objects no row names and unfinished multipart uploads no upload row names."""

    orphans: int = 0  # every unnamed object, young ones included
    orphan_bytes: int = 0
    removable: int = 0  # of those, older than the minimum age
    removable_bytes: int = 0
    removed: int = 0  # removed now (a dry run: what would be)
    removed_bytes: int = 0
    removed_parts: int = 0  # stale multipart uploads aborted (or to be)
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON."""
        return asdict(self)


def _named_objects(session: Session, store: ObjectStore) -> set[tuple[str, str]]:
    named = set(session.execute(select(MediaAsset.bucket, MediaAsset.object_key)).tuples())
    named |= set(
        session.execute(
            select(Upload.bucket, Upload.object_key).where(Upload.completed_at.is_(None))
        )
        .tuples()
        .all()
    )
    # A job's source is an asset row too (record_original); being processed, it is kept
    # whatever happens to the row.
    unfinished = select(Job.source_key).where(Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
    originals = store.settings.bucket_originals
    named |= {(originals, key) for key in session.scalars(unfinished)}
    # Current pieces' originals, even before (or without) their asset row.
    named |= {(originals, key) for key in session.scalars(select(EntryPiece.source_key))}
    # Activity reports' files: their originals and what processing made of them.
    assets = store.settings.bucket_assets
    for bucket, key, outputs in session.execute(
        select(ReportFile.bucket, ReportFile.source_key, ReportFile.outputs)
    ).tuples():
        named.add((bucket, key))
        named |= {(assets, made) for made in (outputs or {}).values()}
    return named


def find_orphans(session: Session, store: ObjectStore) -> tuple[list[ObjectInfo], list[Multipart]]:
    """Objects in the two buckets that no row names, and multipart uploads no row knows."""
    buckets = (store.settings.bucket_originals, store.settings.bucket_assets)
    listed = [obj for bucket in buckets for obj in store.list_objects(bucket)]
    parts = [part for bucket in buckets for part in store.unfinished_multiparts(bucket)]
    # Names are read after listing: a row committed meanwhile still protects its object.
    named = _named_objects(session, store)
    known_parts = set(session.scalars(select(Upload.s3_upload_id)))
    session.rollback()  # end the read; a long sweep holds no transaction open
    orphans = [obj for obj in listed if (obj.bucket, obj.key) not in named]
    return orphans, [part for part in parts if part.upload_id not in known_parts]


def sweep_orphans(
    session: Session,
    store: ObjectStore,
    now: datetime | None = None,
    min_age: timedelta = ORPHAN_MIN_AGE,
    dry_run: bool = False,
) -> OrphanReport:
    """Remove orphans older than `min_age`, and abort stale unnamed multipart uploads.

    Raises ObjectStoreError when the buckets cannot be listed; a failed delete is reported
    in `errors` and tried again by the next sweep.
    """
    cutoff = (now or utcnow()) - min_age
    orphans, parts = find_orphans(session, store)
    report = OrphanReport(
        orphans=len(orphans), orphan_bytes=sum(o.bytes for o in orphans), dry_run=dry_run
    )
    old = [obj for obj in orphans if obj.modified < cutoff]
    report.removable, report.removable_bytes = len(old), sum(o.bytes for o in old)
    for obj in old:
        if not dry_run:
            try:
                store.delete(obj.bucket, obj.key)
            except ObjectStoreError as exc:
                report.errors.append(str(exc))
                continue
            log.info("orphan removed: %s/%s (%s bytes)", obj.bucket, obj.key, obj.bytes)
        report.removed += 1
        report.removed_bytes += obj.bytes
    for part in parts:
        if part.initiated >= cutoff:
            continue
        if not dry_run:
            try:
                store.abort_multipart(part.bucket, part.key, part.upload_id)
            except ObjectStoreError as exc:
                report.errors.append(str(exc))
                continue
            log.info("stale multipart upload aborted: %s/%s", part.bucket, part.key)
        report.removed_parts += 1
    return report
