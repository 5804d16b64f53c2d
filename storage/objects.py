"""The object store: one small interface over the `minio` SDK, for MinIO or any S3 server.

Only calls that both MinIO and SeaweedFS's S3 gateway support are used.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO, Protocol, cast

import urllib3
from minio import Minio
from minio.datatypes import Part
from minio.error import S3Error

from storage.settings import Settings

# Parts of 16 MiB: minio holds one part in memory at a time, whatever the file's size.
PART_SIZE = 16 * 1024 * 1024
# Streamed parts pass through in blocks of this size.
STREAM_BLOCK = 256 * 1024


class ObjectStoreError(RuntimeError):
    """The object store could not be reached or refused a request; usually worth a retry."""


class ObjectMissing(ObjectStoreError):
    """The object asked for is not stored (deleted, or never written); retrying won't help."""


class ShortBody(ValueError):
    """A streamed body ended before its announced length."""

    def __init__(self, received: int, expected: int) -> None:
        super().__init__(f"received {received} of {expected} bytes")
        self.received = received
        self.expected = expected


@dataclass(frozen=True)
class PartResult:
    etag: str
    sha256: bytes  # the digest of the bytes that went into the part


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    bytes: int
    modified: datetime


@dataclass(frozen=True)
class Multipart:
    """A multipart upload that was begun and neither completed nor aborted."""

    bucket: str
    key: str
    upload_id: str
    initiated: datetime


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class PrefixedReader:
    """A stream that yields `head` (already read from `rest`) and then the rest of `rest`."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._rest.read(size)


class HashingReader:
    """Wraps a stream, counting and hashing what is read, refusing more than `limit` bytes."""

    def __init__(self, stream: Readable, limit: int | None = None) -> None:
        self._stream = stream
        self._limit = limit
        self.bytes = 0
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.bytes += len(chunk)
        if self._limit is not None and self.bytes > self._limit:
            raise TooLargeError(self._limit)
        self._hash.update(chunk)
        return chunk

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class TooLargeError(ValueError):
    """A stream was longer than allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"stream longer than {limit} bytes")
        self.limit = limit


def _pool() -> urllib3.PoolManager:
    # Short connect timeout and few retries: a stopped S3 server must surface as an error
    # quickly, not as a request that hangs for minutes.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=120),
        retries=urllib3.Retry(total=2, backoff_factor=0.3, status_forcelist=[500, 502, 503, 504]),
        maxsize=10,
    )


def _client(endpoint: str, settings: Settings, http: urllib3.PoolManager | None = None) -> Minio:
    return Minio(
        endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
        http_client=http or _pool(),
    )


class ObjectStore:
    """Put, get, stat, presign and delete objects in the configured S3 buckets."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._http = _pool()
        self._client = _client(settings.s3_endpoint, settings, self._http)
        public = settings.s3_public_endpoint or settings.s3_endpoint
        # Presigning needs no request, but the signature covers the host browsers will use.
        self._signer = self._client if public == settings.s3_endpoint else _client(public, settings)

    def ensure_buckets(self) -> None:
        """Create the configured buckets where missing."""
        for bucket in (self.settings.bucket_originals, self.settings.bucket_assets):
            try:
                if not self._client.bucket_exists(bucket):
                    self._client.make_bucket(bucket)
            except (S3Error, urllib3.exceptions.HTTPError) as exc:
                raise ObjectStoreError(f"cannot create bucket {bucket}: {exc}") from exc

    def check_buckets(self) -> None:
        """Raise ObjectStoreError unless the server answers and both buckets exist."""
        for bucket in (self.settings.bucket_originals, self.settings.bucket_assets):
            try:
                found = self._client.bucket_exists(bucket)
            except (S3Error, urllib3.exceptions.HTTPError) as exc:
                raise ObjectStoreError(f"S3 does not answer: {exc}") from exc
            if not found:
                raise ObjectStoreError(f"bucket {bucket} is missing (footprints storage init)")

    def put_stream(
        self,
        bucket: str,
        key: str,
        stream: Readable,
        content_type: str,
        limit: int | None = None,
    ) -> StoredObject:
        """Stream an object of unknown length into the store, hashing it on the way."""
        reader = HashingReader(stream, limit)
        try:
            self._client.put_object(
                bucket,
                key,
                cast(BinaryIO, reader),
                length=-1,
                part_size=PART_SIZE,
                content_type=content_type,
            )
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(f"cannot store {bucket}/{key}: {exc}") from exc
        return StoredObject(bucket, key, reader.bytes, reader.sha256)

    def put_file(self, bucket: str, key: str, path: str, content_type: str) -> StoredObject:
        """Upload a local file, returning its size and sha256."""
        with open(path, "rb") as fh:
            return self.put_stream(bucket, key, fh, content_type)

    def get_file(self, bucket: str, key: str, path: str) -> None:
        """Download an object to a local file."""
        try:
            self._client.fget_object(bucket, key, path)
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchObject", "NotFound"}:
                raise ObjectMissing(f"{bucket}/{key} is not stored") from exc
            raise ObjectStoreError(f"cannot fetch {bucket}/{key}: {exc}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise ObjectStoreError(f"cannot fetch {bucket}/{key}: {exc}") from exc

    def get_bytes(self, bucket: str, key: str, max_bytes: int = 1024 * 1024) -> bytes:
        """A small object's content (manifests, WebVTT); refuses objects over `max_bytes`."""
        try:
            response = self._client.get_object(bucket, key)
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(f"cannot fetch {bucket}/{key}: {exc}") from exc
        try:
            data: bytes = response.read(max_bytes + 1)
        finally:
            response.close()
            response.release_conn()
        if len(data) > max_bytes:
            raise ObjectStoreError(f"{bucket}/{key} is larger than {max_bytes} bytes")
        return data

    def get_range(self, bucket: str, key: str, start: int, length: int) -> bytes:
        """Up to `length` bytes of an object from `start` (fewer at its end)."""
        try:
            response = self._client.get_object(bucket, key, offset=start, length=length)
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(f"cannot fetch {bucket}/{key}: {exc}") from exc
        try:
            data: bytes = response.read(length)
        except urllib3.exceptions.HTTPError as exc:
            raise ObjectStoreError(f"cannot read {bucket}/{key}: {exc}") from exc
        finally:
            response.close()
            response.release_conn()
        return data

    def exists(self, bucket: str, key: str) -> bool:
        """Whether an object is stored under `key`."""
        try:
            self._client.stat_object(bucket, key)
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchObject", "NotFound"}:
                return False
            raise ObjectStoreError(str(exc)) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise ObjectStoreError(str(exc)) from exc
        return True

    def list_objects(self, bucket: str) -> Iterator[ObjectInfo]:
        """Every object in `bucket`, with its size and when it was written."""
        try:
            for obj in self._client.list_objects(bucket, recursive=True):
                if obj.object_name and obj.last_modified and not obj.is_dir:
                    yield ObjectInfo(bucket, obj.object_name, obj.size or 0, obj.last_modified)
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(f"cannot list {bucket}: {exc}") from exc

    def unfinished_multiparts(self, bucket: str) -> list[Multipart]:
        """Multipart uploads begun in `bucket` and neither completed nor aborted."""
        found: list[Multipart] = []
        key_marker = upload_marker = None
        try:
            while True:
                page = self._client._list_multipart_uploads(  # noqa: SLF001
                    bucket, key_marker=key_marker, upload_id_marker=upload_marker
                )
                found += [
                    Multipart(bucket, u.object_name, u.upload_id, u.initiated_time)
                    for u in page.uploads
                    if u.object_name and u.upload_id and u.initiated_time
                ]
                if not page.is_truncated:
                    return found
                key_marker, upload_marker = page.next_key_marker, page.next_upload_id_marker
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(
                f"cannot list the unfinished uploads of {bucket}: {exc}"
            ) from exc

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object; removing a missing one is not an error."""
        try:
            self._client.remove_object(bucket, key)
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(f"cannot delete {bucket}/{key}: {exc}") from exc

    # Multipart uploads, for resumable uploads that arrive in parts. The minio SDK exposes
    # these S3 calls only with a leading underscore; they are stable across minio 7.x.
    def start_multipart(self, bucket: str, key: str, content_type: str) -> str:
        """Begin a multipart upload; returns its upload id."""
        try:
            return self._client._create_multipart_upload(  # noqa: SLF001
                bucket, key, {"Content-Type": content_type}
            )
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(f"cannot start an upload to {bucket}/{key}: {exc}") from exc

    def stream_part(
        self, bucket: str, key: str, upload_id: str, number: int, body: Readable, length: int
    ) -> PartResult:
        """Stream `length` bytes of `body` into part `number` (from 1) of a multipart upload.

        The bytes pass straight through in small blocks: nothing holds the whole part, and
        receiving and sending overlap. Raises ShortBody when `body` ends early (a dropped
        link); S3 then keeps nothing of that part.
        """
        url = self._client.get_presigned_url(
            "PUT",
            bucket,
            key,
            expires=timedelta(hours=1),
            extra_query_params={"partNumber": str(number), "uploadId": upload_id},
        )
        digest = hashlib.sha256()

        def blocks() -> Iterator[bytes]:
            remaining = length
            while remaining:
                block = body.read(min(STREAM_BLOCK, remaining))
                if not block:
                    raise ShortBody(length - remaining, length)
                digest.update(block)
                remaining -= len(block)
                yield block

        try:
            response = self._http.request(
                "PUT",
                url,
                body=blocks(),
                headers={"Content-Length": str(length)},
                retries=False,
                preload_content=True,
            )
        except urllib3.exceptions.HTTPError as exc:
            if isinstance(exc.__context__, ShortBody):
                raise exc.__context__ from exc
            raise ObjectStoreError(f"cannot store part {number} of {bucket}/{key}: {exc}") from exc
        if response.status != 200:
            raise ObjectStoreError(
                f"cannot store part {number} of {bucket}/{key}: HTTP {response.status}"
            )
        return PartResult(str(response.headers.get("ETag", "")).strip('"'), digest.digest())

    def complete_multipart(self, bucket: str, key: str, upload_id: str, etags: list[str]) -> int:
        """Join the parts into the object; returns the object's size."""
        parts = [Part(number, etag) for number, etag in enumerate(etags, start=1)]
        try:
            self._client._complete_multipart_upload(bucket, key, upload_id, parts)  # noqa: SLF001
            return int(self._client.stat_object(bucket, key).size or 0)
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(f"cannot complete {bucket}/{key}: {exc}") from exc

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        """Drop an unfinished multipart upload and its parts."""
        try:
            self._client._abort_multipart_upload(bucket, key, upload_id)  # noqa: SLF001
        except S3Error as exc:
            if exc.code != "NoSuchUpload":
                raise ObjectStoreError(f"cannot abort {bucket}/{key}: {exc}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise ObjectStoreError(f"cannot abort {bucket}/{key}: {exc}") from exc

    def presigned_url(self, bucket: str, key: str, seconds: int | None = None) -> str:
        """A time-limited GET URL that a browser can use directly."""
        expires = timedelta(seconds=seconds or self.settings.presign_seconds)
        return self._signer.presigned_get_object(bucket, key, expires=expires)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a local file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def original_key(entry_id: int, upload_id: str) -> str:
    """Where an uploaded original is stored; `upload_id` is unique per upload."""
    return f"entries/{entry_id}/originals/{upload_id}"


def derived_key(source_key: str, name: str) -> str:
    """Where an asset made from the original at `source_key` is stored.

    The same original always gives the same keys, so a redelivered job overwrites its own
    outputs instead of adding a second set.
    """
    entry_part, _, upload_id = source_key.partition("/originals/")
    return f"{entry_part}/derived/{upload_id}/{name}"
