"""S3-compatible object storage (Contabo, AWS, MinIO...) through boto3, restic's key layout."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import botocore.config
import botocore.exceptions

from backup.backends.base import (
    Backend,
    BackendError,
    FileType,
    NotFoundError,
    is_id,
    relative_path,
)


class S3Backend(Backend):
    def __init__(
        self,
        endpoint: str,
        bucket: str,
        prefix: str = "",
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        config = botocore.config.Config(
            # retries are ours (RetryingBackend), with backoff across all operations
            retries={"max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": "path"},
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=8,
        )
        # never fall back to instance-metadata credential lookups (a network probe)
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=region or "us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    def location(self) -> str:
        return f"s3:{self.endpoint}/{self.bucket}/{self.prefix}".rstrip("/")

    def _key(self, ftype: FileType, name: str) -> str:
        rel = relative_path(ftype, name)
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def create(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except botocore.exceptions.ClientError as e:
            if _status(e) != 404:
                raise
            self.client.create_bucket(Bucket=self.bucket)
        if self.exists(FileType.CONFIG, "config"):
            raise BackendError(f"{self.location()}: a repository already exists here")

    def save(self, ftype: FileType, name: str, data: bytes) -> None:
        # a PUT is atomic on S3: the object appears whole or not at all
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(ftype, name),
            Body=data,
            ContentType="application/octet-stream",
        )

    def load(self, ftype: FileType, name: str, offset: int = 0, length: int | None = None) -> bytes:
        kwargs = {"Bucket": self.bucket, "Key": self._key(ftype, name)}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            kwargs["Range"] = f"bytes={offset}-{end}"
        try:
            return self.client.get_object(**kwargs)["Body"].read()
        except botocore.exceptions.ClientError as e:
            if _status(e) == 404 or _code(e) in ("NoSuchKey", "NoSuchBucket"):
                raise NotFoundError(f"{ftype.value}/{name} not found") from e
            raise

    def list(self, ftype: FileType) -> Iterator[tuple[str, int]]:
        if ftype is FileType.CONFIG:
            key = self._key(ftype, "config")
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            except botocore.exceptions.ClientError as e:
                if _status(e) == 404:
                    return
                raise
            yield "config", head["ContentLength"]
            return
        prefix = (f"{self.prefix}/" if self.prefix else "") + ftype.value + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents") or []:
                name = obj["Key"].rsplit("/", 1)[-1]
                if is_id(name):
                    yield name, obj["Size"]

    def remove(self, ftype: FileType, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(ftype, name))

    def exists(self, ftype: FileType, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(ftype, name))
            return True
        except botocore.exceptions.ClientError as e:
            if _status(e) == 404:
                return False
            raise


def _status(e: botocore.exceptions.ClientError) -> int:
    return int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _code(e: botocore.exceptions.ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def transient(e: BaseException) -> bool:
    if isinstance(
        e,
        (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectionClosedError,
            botocore.exceptions.ReadTimeoutError,
            botocore.exceptions.ConnectTimeoutError,
            botocore.exceptions.ResponseStreamingError,
        ),
    ):
        return True
    if isinstance(e, botocore.exceptions.ClientError):
        return _status(e) >= 500 or _code(e) in ("SlowDown", "RequestTimeout", "Throttling")
    return False
