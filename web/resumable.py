"""Resumable uploads in the tus 1.0 protocol (core, creation, checksum, termination).

Each chunk becomes one S3 multipart part, so the web process holds one chunk at a time and
shares no disk with anyone; a dropped chunk is simply sent again from the last offset.
"""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import update
from sqlalchemy.orm import Session

from judging.accept import (
    NOT_VIDEO,
    PIECES_NOT_VIDEO,
    UploadError,
    keep_original,
    kind_of,
    too_large,
)
from judging.messages import N_, Message
from judging.numbers import ascii_int
from judging.submissions import SubmissionError, check_changeable
from judging.upload_limits import QuotaExceeded, check_quota
from storage.models import Entry, Upload, utcnow
from storage.objects import (
    ObjectStoreError,
    PrefixedReader,
    ShortBody,
    StoredObject,
    original_key,
)
from storage.sniff import HEAD_BYTES
from storage.uploads import drop_upload
from web.extensions import db, settings_of, store, upload_limit
from web.i18n import translate
from web.uploads import request_body
from worker.dispatch import publish_job

bp = Blueprint("uploads", __name__, url_prefix="/api/v1")
log = logging.getLogger(__name__)
TUS = {"Tus-Resumable": "1.0.0"}
STORAGE_DOWN = N_("存储服务暂时不可用，已上传的部分会保留，请稍后继续上传")


def _answer(status: int, message: str = "", **headers: Any) -> Response:
    response = jsonify(error=message) if message else Response(status=status)
    response.status_code = status
    response.headers.update({**TUS, "Cache-Control": "no-store", **headers})
    return response


def _own_upload(upload_id: str) -> Upload | None:
    upload = db.session.get(Upload, upload_id)
    if upload is None or not current_user.is_authenticated or upload.owner_id != current_user.id:
        return None
    return upload


@bp.route("/uploads", methods=["OPTIONS"])
def options() -> Response:
    return _answer(
        204,
        **{
            "Tus-Version": "1.0.0",
            "Tus-Extension": "creation,checksum,termination",
            "Tus-Checksum-Algorithm": "sha256",
            "Tus-Max-Size": str(settings_of().max_upload_bytes),
        },
    )


@bp.post("/entries/<int:entry_id>/uploads")
@upload_limit
def create(entry_id: int) -> Response:
    """Start an upload of `Upload-Length` bytes for the caller's entry."""
    if not current_user.is_authenticated:
        return _answer(401, _("请先登录"))
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.owner_id != current_user.id:
        return _answer(404, _("作品不存在"))
    if entry.work_type.has_pieces:  # their files go through /submit/<id>/pieces
        return _answer(409, translate(PIECES_NOT_VIDEO))
    settings = settings_of()
    length = ascii_int(request.headers.get("Upload-Length"), maximum=2**63 - 1)
    if not length:
        return _answer(400, _("缺少文件大小，或文件是空的"))
    if length > settings.max_upload_bytes:
        return _answer(413, translate(too_large("", settings.max_upload_bytes)))
    try:
        check_changeable(entry)
    except SubmissionError as exc:
        return _answer(409, translate(exc.message))
    try:
        # Locks the user's row until the upload's row is committed below.
        check_quota(db.session, current_user.id, length, settings, resumable=True)
    except QuotaExceeded as exc:
        return _answer(413, translate(exc.message))
    upload_id = uuid.uuid4().hex
    chunk = str(max(settings.upload_chunk_bytes, 5 * 1024**2))
    key = original_key(entry.id, upload_id)
    try:
        s3_id = store().start_multipart(settings.bucket_originals, key, "application/octet-stream")
    except ObjectStoreError as exc:
        log.error("upload for entry %s not started: %s", entry.id, exc)
        return _answer(503, _("存储服务暂时不可用，请稍后再试"))
    db.session.add(
        Upload(
            id=upload_id,
            entry=entry,
            owner_id=current_user.id,
            length=length,
            chunk_bytes=int(chunk),
            filename=_filename(request.headers.get("Upload-Metadata", "")),
            bucket=settings.bucket_originals,
            object_key=key,
            s3_upload_id=s3_id,
            etags=[],
        )
    )
    db.session.commit()
    location = url_for(".upload", upload_id=upload_id)
    return _answer(201, Location=location, **{"Upload-Offset": "0", "Footprints-Chunk-Size": chunk})


@bp.route("/uploads/<upload_id>", methods=["HEAD"])
def upload(upload_id: str) -> Response:
    found = _own_upload(upload_id)
    if found is None:
        return _answer(404)
    return _answer(
        200,
        **{
            "Upload-Offset": str(found.offset),
            "Upload-Length": str(found.length),
            "Footprints-Chunk-Size": str(found.chunk_bytes),
        },
    )


@bp.route("/uploads/<upload_id>", methods=["PATCH"])
def append(upload_id: str) -> Response:
    """Stream the next chunk at `Upload-Offset` into its S3 part; the last one completes."""
    found = _own_upload(upload_id)
    if found is None:
        return _answer(404, _("上传不存在或已过期，请重新选择文件上传"))
    if request.content_type != "application/offset+octet-stream":
        return _answer(415, _("上传格式不正确"))
    if found.completed_at is not None:
        entry_url = url_for("submit.entry", entry_id=found.entry_id)
        return _answer(204, **{"Upload-Offset": str(found.offset), "Footprints-Entry": entry_url})
    refused = _refuse_if_unchangeable(found)
    if refused is not None:
        return refused
    if found.offset == found.length:
        # Every part arrived but joining them failed earlier: try again.
        return _finish(found)
    offset = request.headers.get("Upload-Offset", "")
    if offset != str(found.offset):
        return _answer(
            409, _("上传进度不一致，请刷新后继续"), **{"Upload-Offset": str(found.offset)}
        )
    expected = min(found.chunk_bytes, found.length - found.offset)
    here = {"Upload-Offset": str(found.offset)}
    if request.content_length is not None and request.content_length != expected:
        return _answer(400, _("分片大小应为 %(n)d 字节；请从断点重新发送", n=expected), **here)
    # Hand the database connection back while the part streams in (seconds, at a phone's
    # speed): loaded rows stay usable, and judges' pages need not wait for a free connection.
    db.session.commit()
    body = request_body()
    if found.offset == 0:
        head = body.read(HEAD_BYTES)
        if kind_of(head) != "video":  # by content, as judging.accept decides
            # Refused before anything is kept: the parts and the row go.
            drop_upload(db.session, store(), found)
            return _answer(415, _(NOT_VIDEO))
        body = PrefixedReader(head, body)
    try:
        part = store().stream_part(
            found.bucket,
            found.object_key,
            found.s3_upload_id,
            len(found.etags) + 1,
            body,
            expected,
        )
    except ShortBody as exc:
        return _answer(
            400,
            _(
                "分片不完整（收到 %(got)d / %(want)d 字节），请从断点重新发送",
                got=exc.received,
                want=exc.expected,
            ),
            **here,
        )
    except ObjectStoreError as exc:
        log.error("upload %s: part not stored: %s", found.id, exc)
        return _answer(503, _(STORAGE_DOWN), **here)
    problem = _check_checksum(request.headers.get("Upload-Checksum", ""), part.sha256)
    if problem:
        # The damaged part is not recorded; the resent chunk overwrites it in S3.
        return _answer(problem[0], problem[1], **here)
    # Advance only from the offset this request started at: of two tabs sending the same
    # part at once, one wins and the other is told where the upload now stands.
    moved = db.session.execute(
        update(Upload)
        .where(Upload.id == found.id, Upload.offset == found.offset)
        .values(offset=found.offset + expected, etags=[*found.etags, part.etag])
    )
    db.session.commit()
    db.session.refresh(found)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return _answer(
            409, _("上传进度不一致，请刷新后继续"), **{"Upload-Offset": str(found.offset)}
        )
    if found.offset == found.length:
        return _finish(found)
    return _answer(204, **{"Upload-Offset": str(found.offset)})


def _refuse_if_unchangeable(found: Upload) -> Response | None:
    """Past the deadline or withdrawn: drop the upload and its parts, and say why.

    The answer carries no Upload-Offset, so the uploader stops instead of resuming.
    """
    try:
        check_changeable(found.entry)
    except SubmissionError as exc:
        log.info("upload %s refused: the entry can no longer change", found.id)
        drop_upload(db.session, store(), found)
        return _answer(409, translate(exc.message))
    return None


def _finish(found: Upload) -> Response:
    headers = {"Upload-Offset": str(found.offset)}
    try:
        headers["Footprints-Entry"] = _complete(db.session, found)
    except ObjectStoreError as exc:
        log.error("upload %s: not completed: %s", found.id, exc)
        return _answer(503, _(STORAGE_DOWN), **headers)
    except SubmissionError as exc:
        drop_upload(db.session, store(), found)
        return _answer(409, translate(exc.message))
    return _answer(204, **headers)


@bp.route("/uploads/<upload_id>", methods=["DELETE"])
def terminate(upload_id: str) -> Response:
    found = _own_upload(upload_id)
    if found is None:
        return _answer(404)
    if found.completed_at is None:
        drop_upload(db.session, store(), found)
    return _answer(204)


def _check_checksum(header: str, digest: bytes) -> tuple[int, str] | None:
    """tus checksum extension: compare the client's sha256 of the chunk with what arrived."""
    if not header:
        return None
    algorithm, _sep, expected = header.partition(" ")
    if algorithm != "sha256":
        return 400, _("不支持的校验算法")
    if base64.b64encode(digest).decode() != expected:
        # tus's "checksum mismatch": the chunk was damaged on the way; send it again.
        return 460, _("分片校验失败，请重新发送")
    return None


def _complete(session: Session, found: Upload) -> str:
    """Join the parts into the original, then record and publish it as judging.accept does."""
    entry = found.entry
    # The last part took seconds to arrive: another tab may have withdrawn the entry, or an
    # organizer moved the deadline. Refused now, the parts are never joined into an object.
    session.refresh(entry)
    session.refresh(entry.contest)
    check_changeable(entry)
    if entry.work_type.has_pieces:  # its type changed since the upload began
        raise UploadError(Message(PIECES_NOT_VIDEO))
    size = store().complete_multipart(
        found.bucket, found.object_key, found.s3_upload_id, found.etags
    )
    if size != found.length:
        raise ObjectStoreError(f"stored {size} bytes of {found.length}")
    found.completed_at = utcnow()
    # The worker records the original's sha256 as it downloads it. Refused in the instant
    # since the check, the joined object does not stay behind.
    stored = StoredObject(found.bucket, found.object_key, size, "")
    keep_original(session, store(), settings_of(), entry, stored, publish_job)
    return url_for("submit.entry", entry_id=found.entry_id)


def _filename(metadata: str) -> str:
    # tus metadata: "key base64value,key base64value".
    for pair in metadata.split(","):
        key, _sep, value = pair.strip().partition(" ")
        if key == "filename":
            try:
                return base64.b64decode(value).decode("utf-8", "replace")[:255]
            except ValueError:
                return ""
    return ""
