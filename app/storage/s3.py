"""S3-compatible object storage (Contabo, AWS, MinIO, Ceph RGW) through boto3.

Objects are `<prefix>/<key>` with the same random 32-hex keys as LocalStorage. Uploads stream as
multipart uploads, one part buffered at a time, and an upload that fails is aborted, so a partial
object is never visible (and never billed as an incomplete upload when the abort gets through).
Downloads are presigned GET URLs: S3 sends the bytes, as nginx does with X-Accel-Redirect locally.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import botocore.session

from app.storage.base import StoredObject
from app.storage.disposition import content_disposition

log = logging.getLogger("eyeshots.storage")

KEY = re.compile(r"[0-9a-f]{32}")
MIB = 1024 * 1024
PART_SIZE = 8 * MIB
# S3's floor for every part but the last
MIN_PART_SIZE = 5 * MIB
# SigV4 presigned URLs are valid for at most seven days
MAX_URL_SECONDS = 7 * 24 * 3600


class StorageConfigError(ValueError):
    """The storage settings cannot work; the message names the setting to fix."""


class IntegrityError(RuntimeError):
    """The bytes read for an upload do not hash to what the caller said they would."""


@functools.cache
def _isolated_session() -> boto3.session.Session:
    # no profile, config file or shared credentials file from the environment: only what the
    # settings say reaches the client (an AWS_PROFILE naming a missing profile would even crash);
    # one per process, as loading botocore's service models costs a third of a second
    core = botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )
    return boto3.session.Session(botocore_session=core)


class S3Storage:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str = "",
        secret_key: str = "",
        *,
        part_size: int = PART_SIZE,
        max_attempts: int = 5,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        if not bucket:
            raise StorageConfigError("S3 storage needs a bucket name")
        if not access_key or not secret_key:
            # explicit keys only: no environment, shared-file or instance-metadata lookups
            raise StorageConfigError("S3 storage needs an explicit access key and secret key")
        if part_size < MIN_PART_SIZE:
            raise StorageConfigError(f"S3 part size must be at least {MIN_PART_SIZE} bytes")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.part_size = part_size
        self.max_attempts = max_attempts
        config = botocore.config.Config(
            signature_version="s3v4",
            # "standard" retries throttling, 5xx and connection errors with jittered backoff
            retries={"mode": "standard", "max_attempts": max_attempts},
            # custom endpoints (Contabo, MinIO, RGW) serve buckets under the path
            s3={"addressing_style": "path" if endpoint_url else "virtual"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # the newer default CRC checksums are refused by several S3-compatible servers;
            # parts carry Content-MD5 instead, which every implementation checks
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            ignore_configured_endpoint_urls=True,
        )
        self.client = _isolated_session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or "us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    # keys and names

    def object_name(self, key: str) -> str:
        if not KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    # writing

    def put(self, chunks: Iterable[bytes]) -> StoredObject:
        return self._store(chunks)

    def put_file(self, path: Path, sha256: str) -> StoredObject:
        """Upload an assembled local file; refuses (and stores nothing) if it no longer hashes
        to `sha256`, so a file changed on disk since assembly never becomes a version."""
        with open(path, "rb") as source:
            return self._store(iter(lambda: source.read(MIB), b""), expected_sha256=sha256)

    def _store(self, chunks: Iterable[bytes], expected_sha256: str | None = None) -> StoredObject:
        key = uuid.uuid4().hex
        name = self.object_name(key)
        digest, size = hashlib.sha256(), 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, object]] = []
        try:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                if len(buffer) >= self.part_size:
                    if upload_id is None:
                        upload_id = self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=name, ContentType="application/octet-stream"
                        )["UploadId"]
                    # the buffer itself is the part (no copy): parts are part_size plus less
                    # than one chunk, which S3 allows (all but the last >= 5 MiB)
                    parts.append(self._upload_part(name, upload_id, len(parts) + 1, buffer))
                    buffer = bytearray()
            sha256 = digest.hexdigest()
            if expected_sha256 is not None and sha256 != expected_sha256:
                raise IntegrityError(
                    f"upload hashes to {sha256}, expected {expected_sha256}: not stored"
                )
            if upload_id is None:
                # smaller than one part: a single PUT is just as atomic and one request
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=name,
                    Body=buffer,
                    ContentMD5=_md5(buffer),
                    ContentType="application/octet-stream",
                )
            else:
                if buffer:
                    parts.append(self._upload_part(name, upload_id, len(parts) + 1, buffer))
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            self._discard(name, upload_id)
            raise
        return StoredObject(key=key, size=size, sha256=sha256)

    def _upload_part(self, name: str, upload_id: str, number: int, data: bytes | bytearray) -> dict:
        answer = self.client.upload_part(
            Bucket=self.bucket,
            Key=name,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ContentMD5=_md5(data),
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    def _discard(self, name: str, upload_id: str | None) -> None:
        try:
            if upload_id is not None:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            # the completing request may have succeeded with its answer lost on the way back
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except Exception as error:  # the original failure matters more; the sweep retries
            log.warning("could not clean up failed upload %s: %s", name, error)

    def abort_stale_uploads(self, older_than: timedelta) -> int:
        """Abort multipart uploads under the prefix started before now - older_than (left by a
        process killed mid-upload); returns how many. A bucket lifecycle rule does the same."""
        cutoff = datetime.now(UTC) - older_than
        aborted = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._list_prefix()):
            for upload in page.get("Uploads") or []:
                if upload["Initiated"] < cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
        return aborted

    # reading

    def read(self, key: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """The object's bytes; a connection lost mid-body is resumed with a Range request
        (If-Match the first ETag, so a resumed read never splices two different objects)."""
        name = self.object_name(key)
        offset, etag, resumes = 0, None, 0
        while True:
            request = {"Bucket": self.bucket, "Key": name}
            if etag is not None:
                request.update(Range=f"bytes={offset}-", IfMatch=etag)
            try:
                answer = self.client.get_object(**request)
            except botocore.exceptions.ClientError as error:
                if _missing(error):
                    raise FileNotFoundError(f"no stored object {key}") from None
                raise
            etag, body = answer["ETag"], answer["Body"]
            try:
                for chunk in body.iter_chunks(chunk_size):
                    offset += len(chunk)
                    yield chunk
                return
            except _BROKEN_STREAM as error:
                resumes += 1
                if resumes >= self.max_attempts:
                    raise
                log.warning("resuming %s at byte %d after: %s", name, offset, error)
            finally:
                body.close()

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except FileNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def _head(self, key: str) -> dict:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except botocore.exceptions.ClientError as error:
            if _missing(error):
                raise FileNotFoundError(f"no stored object {key}") from None
            raise

    def delete(self, key: str) -> None:
        # idempotent on S3: deleting a missing object succeeds
        self.client.delete_object(Bucket=self.bucket, Key=self.object_name(key))

    def keys(self) -> Iterator[str]:
        """Every stored key (objects under the prefix that are not keys are skipped)."""
        prefix = self._list_prefix()
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents") or []:
                rest = obj["Key"][len(prefix) :]
                if KEY.fullmatch(rest):
                    yield rest

    def _list_prefix(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    # serving

    def download_url(
        self,
        key: str,
        filename: str,
        content_type: str,
        expires_seconds: int,
        *,
        disposition: str = "attachment",
    ) -> str:
        """A presigned GET whose response carries our Content-Disposition and Content-Type."""
        if not 1 <= expires_seconds <= MAX_URL_SECONDS:
            raise ValueError(f"expires_seconds must be 1..{MAX_URL_SECONDS}, not {expires_seconds}")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in content_type):
            raise ValueError(f"content type has control characters: {content_type!r}")
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.object_name(key),
                "ResponseContentDisposition": content_disposition(filename, disposition),
                "ResponseContentType": content_type,
            },
            ExpiresIn=expires_seconds,
        )

    def internal_path(self, key: str) -> None:
        """No X-Accel-Redirect target: S3 objects are served by presigned URL."""
        self.object_name(key)
        return None

    def check(self) -> None:
        """Raise StorageConfigError (one line) unless the bucket is reachable with these keys."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except botocore.exceptions.ClientError as error:
            status = _status(error)
            reason = {404: "does not exist", 403: "refuses these credentials"}.get(
                status, f"answered {status or _code(error)}"
            )
            raise StorageConfigError(f"S3 bucket {self.bucket!r} {reason}") from None
        except botocore.exceptions.BotoCoreError as error:
            raise StorageConfigError(f"S3 endpoint unreachable: {error}") from None


# the body stopped short (connection reset, timeout): the request itself had succeeded
_BROKEN_STREAM = (
    botocore.exceptions.ResponseStreamingError,
    botocore.exceptions.IncompleteReadError,
    botocore.exceptions.ReadTimeoutError,
)


def _md5(data: bytes | bytearray) -> str:
    # integrity of each part in transit, not security
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def _status(error: botocore.exceptions.ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _missing(error: botocore.exceptions.ClientError) -> bool:
    return _status(error) == 404 or _code(error) in ("NoSuchKey", "404", "NotFound")
