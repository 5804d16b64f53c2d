"""Accept uploads from the web: a video or a piece, through judging.accept's one path."""

from __future__ import annotations

import logging
import uuid
from typing import cast

from flask import request

from judging.accept import (
    NOT_VIDEO,
    PIECES_NOT_VIDEO,
    Original,
    UploadError,
    UploadTooLarge,
    accept_original,
)
from judging.messages import Message
from storage.models import Entry, Job
from storage.objects import STREAM_BLOCK, Readable, original_key
from web.extensions import db, settings_of, store
from worker.dispatch import publish_job

log = logging.getLogger(__name__)

__all__ = ["NOT_VIDEO", "UploadError", "UploadTooLarge", "accept_piece", "accept_video"]


def accept_video(entry: Entry, stream: Readable, declared_length: int | None) -> Job:
    """Store `stream` as the entry's new original and queue its processing."""
    if entry.work_type.has_pieces:
        raise UploadError(Message(PIECES_NOT_VIDEO))
    original = Original(stream, original_key(entry.id, uuid.uuid4().hex), declared_length)
    job, _ = accept_original(db.session, store(), settings_of(), entry, original, publish_job)
    return job


def accept_piece(
    entry: Entry, stream: Readable, filename: str, declared_length: int | None = None
) -> Job:
    """Store `stream` as the entry's next photo or page and queue the entry's job."""
    key = original_key(entry.id, uuid.uuid4().hex)
    original = Original(stream, key, declared_length, filename=filename)
    job, _ = accept_original(db.session, store(), settings_of(), entry, original, publish_job)
    return job


def request_body() -> Readable:
    """The request body as a stream, read in large blocks.

    gunicorn's `wsgi.input` reads its socket in 1 KiB steps, which held uploads to about a
    third of what the S3 server takes (bench/upload.py); the length reader beneath it reads
    whole blocks. Anywhere else (tests, other servers) this is just `request.stream`.
    """
    wsgi_input = request.environ.get("wsgi.input")
    reader = getattr(wsgi_input, "reader", None)
    buffered = getattr(wsgi_input, "buf", None)
    if (
        type(reader).__name__ == "LengthReader"
        and buffered is not None
        and buffered.tell() == 0  # nothing read through the outer stream yet
    ):
        unreader = getattr(reader, "unreader", None)
        if isinstance(getattr(unreader, "mxchunk", None), int):
            # Its socket reads are 8 KiB by default: 32 times the Python work per byte.
            unreader.mxchunk = max(unreader.mxchunk, STREAM_BLOCK)  # type: ignore[union-attr]
        return cast(Readable, reader)
    return request.stream


def publish(job: Job) -> bool:
    """Send a committed job to the workers; False (job left queued) when the broker is down."""
    return publish_job(db.session, job)
