"""Accept one original (a video, a photo, a comic page or PDF): the one path every upload takes.

The web form, the API and `footprints import DIR` all call `accept_original`: check that the
entry takes it (deadline, work type, room for one more piece), the user's storage cap, the
file's first bytes (by content, never by name), the size limit of what it is, then stream it
to the object store, record it and publish its job after the commit. Nothing is stored when a
check fails; an original refused after storing (the entry closed, or two uploads raced for
the last place) is deleted.

The tus upload's completion (`keep_original`) and an activity report's file (`room_for`,
`cut_to_room`, `put_original`, `keep_or_discard`) take the same steps where theirs are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from judging.messages import N_, Message
from judging.pieces import add_piece, check_room, clean_caption
from judging.submissions import SubmissionError, check_changeable, record_original
from judging.upload_limits import QuotaExceeded, check_quota, storage_full
from storage import sniff
from storage.models import Entry, Job, WorkType
from storage.objects import (
    ObjectStore,
    ObjectStoreError,
    PrefixedReader,
    Readable,
    StoredObject,
    TooLargeError,
)
from storage.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

IMAGE_KINDS = frozenset({"jpeg", "png", "webp", "heif"})
PIECES_NOT_VIDEO = N_("摄影、漫画和职业故事作品请在作品页添加图片，不能上传视频")
STORE_DOWN_VIDEO = N_("存储服务暂时不可用，视频未保存，请稍后重新上传")
STORE_DOWN_FILE = N_("存储服务暂时不可用，文件未保存，请稍后重新上传")
NOT_VIDEO = N_("所选文件不是视频文件，请选择 MP4、MOV 等格式的视频")
NOT_IMAGE = N_("%(name)s 不是照片：请选择 JPEG、PNG、WebP 或 HEIC 格式的图片")
NOT_PAGE = N_("%(name)s 不是漫画页面：请选择 JPEG、PNG、WebP、HEIC 格式的图片或 PDF 文件")


class UploadError(SubmissionError):
    """An upload was not stored; nothing already stored was changed."""


class UploadTooLarge(UploadError):
    """An upload was longer than the size limit."""


class StoreUnavailable(UploadError):
    """The object store failed: nothing was stored, the same upload may be tried again later."""


def kind_of(head: bytes) -> str | None:
    """What a file is from its first bytes: an image kind, "pdf", "video" or None."""
    # Images first: a HEIC file opens with an ISO "ftyp" box, as an MP4 does.
    found = sniff.original_kind(head)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"  # taken by nothing, and its "G" would pass for an MPEG-TS sync byte
    if found is None and sniff.looks_like_video(head):
        return "video"
    return found


def accepted_kinds(work_type: WorkType) -> frozenset[str]:
    """The kinds of file an entry of `work_type` takes (PDFs for comics only)."""
    if work_type is WorkType.VIDEO:
        return frozenset({"video"})
    if work_type is WorkType.COMIC:
        return IMAGE_KINDS | {"pdf"}
    return IMAGE_KINDS


def size_limit(kind: str, settings: Settings) -> int:
    """The largest file of `kind` accepted, in bytes."""
    if kind == "video":
        return settings.max_upload_bytes
    if kind == "pdf":
        return settings.pdf_max_bytes
    return settings.image_max_bytes


@dataclass(frozen=True)
class Original:
    """One file offered for an entry: its stream, the length it announced, its name."""

    stream: Readable
    key: str
    declared_length: int | None = None
    filename: str = ""
    caption: str = ""


def accept_original(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    entry: Entry,
    original: Original,
    publish: Callable[[Session, Job], bool],
) -> tuple[Job, bool]:
    """Store `original` as the entry's video or next piece, queue its job and publish it.

    Returns the job and whether the broker took it (False: left queued, sent later).
    """
    check_changeable(entry)  # before reading a byte: nothing is stored past the deadline
    if entry.work_type.has_pieces:
        check_room(entry, settings)
        clean_caption(original.caption)
    room = room_for(session, entry.owner_id, original.declared_length, settings)
    name = original.filename
    largest = max(size_limit(kind, settings) for kind in accepted_kinds(entry.work_type))
    if original.declared_length is not None and original.declared_length > largest:
        raise UploadTooLarge(too_large(name, largest))
    head = original.stream.read(sniff.HEAD_BYTES)
    limit = check_head(head, name, original.declared_length, entry.work_type, settings)
    # The stream is cut off where the user's storage is full, whatever it announced.
    limit, refusal = cut_to_room(room, limit, too_large(name, limit), settings)
    session.commit()  # no connection (nor the user's row lock) held while the file streams
    down = STORE_DOWN_FILE if name else STORE_DOWN_VIDEO
    stored = put_original(
        store, settings, original.key, head, original.stream, limit, refusal, Message(down)
    )
    return keep_original(session, store, settings, entry, stored, publish, name, original.caption)


def keep_original(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    entry: Entry,
    stored: StoredObject,
    publish: Callable[[Session, Job], bool],
    filename: str = "",
    caption: str = "",
) -> tuple[Job, bool]:
    """Record a stored original as the entry's video or next piece, then publish its job.

    Recording commits before `publish` runs. Refused now (the entry closed, or another upload
    took the last place while this one streamed), the object is deleted and the error raised.
    """
    job = keep_or_discard(
        session, store, stored, lambda: _record(session, settings, entry, stored, filename, caption)
    )
    return job, publish(session, job)


def room_for(session: Session, owner_id: int, length: int | None, settings: Settings) -> int:
    """The bytes `owner_id` may still store; UploadTooLarge when `length` does not fit.

    The owner's row stays locked until the caller commits (see check_quota).
    """
    try:
        return check_quota(session, owner_id, length, settings, resumable=False)
    except QuotaExceeded as exc:
        raise UploadTooLarge(exc.message) from exc


def cut_to_room(room: int, limit: int, refusal: str, settings: Settings) -> tuple[int, str]:
    """The byte limit of a stream and its refusal, cut to `room` when the owner's storage
    would be full sooner than `limit`."""
    if room < limit:
        held = settings.user_storage_limit_mb * 1024**2 - room
        return room, storage_full(held, settings)
    return limit, refusal


def check_head(
    head: bytes, name: str, length: int | None, work_type: WorkType, settings: Settings
) -> int:
    """The byte limit of a file that starts with `head`, or UploadError: empty, not a kind
    the work type takes (by content, never by name), or `length` over its kind's limit."""
    if not head:
        raise UploadError(
            Message("%(name)s 是空文件，请重新选择", name=name)
            if name
            else Message("上传的文件是空的，请重新选择视频文件")
        )
    kind = kind_of(head)
    if kind not in accepted_kinds(work_type):
        raise UploadError(_not_accepted(work_type, name, kind))
    limit = size_limit(kind, settings)
    if length is not None and length > limit:
        raise UploadTooLarge(too_large(name, limit))
    return limit


def too_large(name: str, limit: int) -> str:
    """The refusal of a file (named `name`, if known) over `limit` bytes."""
    mb = max(limit // 1024**2, 1)
    if name:
        return Message("%(name)s 过大：上限为 %(mb)d MB", name=name, mb=mb)
    return Message("文件过大：上限为 %(mb)d MB", mb=mb)


def _not_accepted(work_type: WorkType, name: str, kind: str | None) -> str:
    if work_type is WorkType.VIDEO:
        if kind in IMAGE_KINDS or kind == "pdf":
            return Message("微视频作品请上传视频文件；照片、漫画请选择对应的作品类型")
        if name:
            return Message("%(name)s 不是视频文件，请选择 MP4、MOV 等格式的视频", name=name)
        return Message(NOT_VIDEO)
    name = name or "所选文件"
    if kind == "video":
        return Message("%(name)s 是视频：摄影、漫画和职业故事作品请上传图片", name=name)
    if work_type is WorkType.COMIC:
        return Message(NOT_PAGE, name=name)
    if kind == "pdf":
        return Message("%(name)s 是 PDF：PDF 只用于漫画作品，照片请选择图片文件", name=name)
    return Message(NOT_IMAGE, name=name)


def put_original(
    store: ObjectStore,
    settings: Settings,
    key: str,
    head: bytes,
    stream: Readable,
    limit: int,
    refusal: str,
    down: str,
) -> StoredObject:
    """Stream `head` and the rest of `stream` to `key` in the originals bucket.

    UploadTooLarge (`refusal`) past `limit` bytes, StoreUnavailable (`down`) when the store
    fails; nothing is kept in either case.
    """
    try:
        return store.put_stream(
            settings.bucket_originals,
            key,
            PrefixedReader(head, stream),
            "application/octet-stream",
            limit=limit,
        )
    except TooLargeError as exc:
        raise UploadTooLarge(refusal) from exc
    except ObjectStoreError as exc:
        log.error("original %s not stored: %s", key, exc)
        raise StoreUnavailable(down) from exc


def keep_or_discard(
    session: Session, store: ObjectStore, stored: StoredObject, record: Callable[[], T]
) -> T:
    """What `record` returns; when it refuses (SubmissionError), the stored object is deleted."""
    try:
        return record()
    except SubmissionError:
        # Refused after streaming (the entry closed meanwhile, or another upload took the
        # last place): the file is not kept.
        session.rollback()
        try:
            store.delete(stored.bucket, stored.key)
        except ObjectStoreError as exc:  # the orphan sweep removes it later
            log.warning("refused original %s not deleted: %s", stored.key, exc)
        raise


def _record(
    session: Session,
    settings: Settings,
    entry: Entry,
    stored: StoredObject,
    filename: str,
    caption: str,
) -> Job:
    if entry.work_type.has_pieces:
        return add_piece(session, entry, stored, settings, filename, caption)  # locks the entry
    # The file took a while to stream: another tab may have withdrawn the entry or changed its
    # type, an organizer may have moved the deadline. Decided on the rows as they are now,
    # the entry's locked until the record commits.
    session.refresh(entry, with_for_update=True)
    session.refresh(entry.contest)
    if entry.work_type.has_pieces:
        raise UploadError(Message(PIECES_NOT_VIDEO))
    return record_original(session, entry, stored)
