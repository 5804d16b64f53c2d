"""The object store: one small interface over the `minio` SDK, for MinIO or any S3 server.

Only calls that both MinIO and SeaweedFS's S3 gateway support are used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO, Protocol, cast

import urllib3
from minio import Minio
from minio.datatypes import Part
from minio.error import S3Error

from storage.settings import Settings

# Parts of 16 MiB: minio holds one part in memory at a time, whatever the file's size.
PART_SIZE = 16 * 1024 * 1024


class ObjectStoreError(RuntimeError):
    """The object store could not be reached or refused a request; usually worth a retry."""


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    bytes: int
    sha256: str


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


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


def _client(endpoint: str, settings: Settings) -> Minio:
    # Short connect timeout and few retries: a stopped S3 server must surface as an error
    # quickly, not as a request that hangs for minutes.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=120),
        retries=urllib3.Retry(total=2, backoff_factor=0.3, status_forcelist=[500, 502, 503, 504]),
        maxsize=10,
    )
    return Minio(
        endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
        http_client=http,
    )


class ObjectStore:
    """Put, get, stat, presign and delete objects in the configured S3 buckets."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client = _client(settings.s3_endpoint, settings)
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
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
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

    def put_part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Store part `number` (from 1) of a multipart upload; returns its ETag."""
        try:
            return self._client._upload_part(  # noqa: SLF001
                bucket, key, data, None, upload_id, number
            )
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(f"cannot store part {number} of {bucket}/{key}: {exc}") from exc

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

    def ping(self) -> None:
        """Raise ObjectStoreError unless the S3 server answers."""
        try:
            self._client.bucket_exists(self.settings.bucket_assets)
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ObjectStoreError(f"S3 server at {self.settings.s3_endpoint}: {exc}") from exc


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
