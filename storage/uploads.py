"""Dropping resumable uploads (refused, cancelled or abandoned) and old upload starts."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Upload, UploadStart, utcnow
from storage.objects import ObjectStore, ObjectStoreError

log = logging.getLogger(__name__)


def drop_upload(session: Session, s3: ObjectStore, upload: Upload) -> None:
    """Abort the upload's S3 parts and delete its row; commits."""
    try:
        s3.abort_multipart(upload.bucket, upload.object_key, upload.s3_upload_id)
    except ObjectStoreError as exc:
        # The row goes anyway; S3 servers also expire unfinished multipart uploads.
        log.warning("upload %s: parts not removed: %s", upload.id, exc)
    session.delete(upload)
    session.commit()


def drop_expired_uploads(session: Session, s3: ObjectStore, older_than: timedelta) -> list[str]:
    """Drop unfinished uploads nobody touched for `older_than`; returns their ids."""
    stale = select(Upload).where(
        Upload.completed_at.is_(None), Upload.updated_at < utcnow() - older_than
    )
    dropped = []
    for upload in session.scalars(stale).all():
        dropped.append(upload.id)
        drop_upload(session, s3, upload)
    return dropped


def forget_upload_starts(session: Session, older_than: timedelta) -> int:
    """Delete upload starts the rate limit no longer counts; returns how many. Commits."""
    result = session.execute(
        delete(UploadStart).where(UploadStart.created_at < utcnow() - older_than)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
