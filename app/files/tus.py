"""The file service's resumable uploads: tus 1.0 core, creation, termination and expiration
(https://tus.io/protocols/resumable-upload)."""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import os
import time
from email.utils import formatdate
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.files import access, policy
from app.files.errors import Refused, denied
from app.files.names import BadName, clean_name
from app.files.receive import Disconnected, fsync, receive
from app.files.service import Service, bearer, declared_length, put_file, record, session
from app.files.sniff import SNIFF_BYTES
from app.files.uploads import Upload

TUS_VERSION = "1.0.0"
TUS = {"Tus-Resumable": TUS_VERSION}


def _tus_check(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise Refused(412, "Tus-Resumable: 1.0.0 is required", {"Tus-Version": TUS_VERSION})


def _expires(upload: Upload) -> str:
    return formatdate(upload.expires, usegmt=True)


def _metadata(header: str) -> dict[str, str]:
    result = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        try:
            result[key] = base64.b64decode(value, validate=True).decode() if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise Refused(400, f"Upload-Metadata {key!r} is not base64 UTF-8") from None
    return result


async def tus_options(request: Request) -> Response:
    settings = request.app.state.service.settings
    return Response(status_code=204, headers={
        "Tus-Resumable": TUS_VERSION, "Tus-Version": TUS_VERSION,
        "Tus-Extension": "creation,termination,expiration",
        "Tus-Max-Size": str(settings.files_max_upload_bytes),
    })  # fmt: skip


async def tus_create(request: Request) -> Response:
    """POST <prefix>tus/<file id>: a new upload of Upload-Length bytes."""
    service: Service = request.app.state.service
    settings = service.settings
    _tus_check(request)
    file_id = request.path_params["file_id"]
    grant = access.grant_of(service.ring, bearer(request), "upload")
    length = declared_length(request, "upload-length")
    if length is None:
        raise Refused(400, "Upload-Length is required (deferred length is not supported)")
    policy.check_size(settings, length)
    await anyio.to_thread.run_sync(access.check_upload, service.factory, grant, file_id, length,
                                   settings.files_project_quota_bytes, session(request))  # fmt: skip
    meta = _metadata(request.headers.get("upload-metadata", ""))
    try:
        name = clean_name(meta.get("filename", ""))
    except BadName as error:
        raise Refused(400, str(error)) from None
    created = service.uploads.create(grant.user_id, grant.project_id, file_id, length, name)
    return Response(status_code=201, headers=TUS | {
        "Location": f"{settings.files_prefix}tus/{file_id}/{created.id}",
        "Upload-Expires": _expires(created),
    })  # fmt: skip


def _own_upload(request: Request) -> Upload:
    service: Service = request.app.state.service
    _tus_check(request)
    grant = access.grant_of(service.ring, bearer(request), "upload")
    upload = service.uploads.get(request.path_params["upload_id"])
    if upload is None or upload.file_id != request.path_params["file_id"]:
        raise Refused(404, "no such upload; start a new one", TUS)
    if upload.user_id != grant.user_id or upload.file_id != grant.file_id:
        raise denied()
    if upload.expires < time.time():
        service.uploads.remove(upload.id)
        raise Refused(410, "this upload has expired; start a new one", TUS)
    return upload


async def tus_head(request: Request) -> Response:
    service: Service = request.app.state.service
    upload = _own_upload(request)
    return Response(status_code=200, headers=TUS | {
        "Upload-Offset": str(service.uploads.offset(upload)),
        "Upload-Length": str(upload.length), "Upload-Expires": _expires(upload),
        "Cache-Control": "no-store",
    })  # fmt: skip


async def tus_delete(request: Request) -> Response:
    service: Service = request.app.state.service
    upload = _own_upload(request)
    service.uploads.remove(upload.id)
    return Response(status_code=204, headers=TUS)


async def tus_patch(request: Request) -> Response:
    service: Service = request.app.state.service
    upload = _own_upload(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/offset+octet-stream"
    ):
        raise Refused(415, "Content-Type must be application/offset+octet-stream", TUS)
    offset = declared_length(request, "upload-offset")
    if offset is None:
        raise Refused(400, "Upload-Offset is required (ask HEAD for the current offset)", TUS)
    path = service.uploads.data_path(upload.id)
    with open(path, "ab") as out:
        try:
            # one writer per upload: a second PATCH (a retry racing the first) waits its turn
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused(409, "another request is writing this upload; retry shortly",
                          TUS) from None  # fmt: skip
        current = os.fstat(out.fileno()).st_size
        if offset != current:
            raise Refused(409, f"Upload-Offset is {offset} but the upload is at {current}",
                          TUS | {"Upload-Offset": str(current)})  # fmt: skip
        remaining = upload.length - current
        check = service.check_head if current == 0 else None
        try:
            await receive(request.stream(), out, None, remaining,
                          lambda: Refused(400, "more bytes than Upload-Length", TUS), check)  # fmt: skip
        except Disconnected:
            # keep what arrived: the client resumes from HEAD's offset
            await anyio.to_thread.run_sync(fsync, out)
            service.uploads.touch(upload)
            return Response(status_code=400, headers=TUS)
        except Refused:
            # the bytes of a refused request do not count: truncate to where it started
            out.truncate(current)
            raise
        await anyio.to_thread.run_sync(fsync, out)
        new_offset = os.fstat(out.fileno()).st_size
    headers = TUS | {"Upload-Offset": str(new_offset)}
    if new_offset < upload.length:
        service.uploads.touch(upload)
        return Response(status_code=204, headers=headers | {"Upload-Expires": _expires(upload)})
    body = await _finish(service, upload)
    return Response(
        status_code=204, headers=headers | {"Upload-Version-Id": str(body["version_id"])}
    )


async def _finish(service: Service, upload: Upload) -> dict[str, Any]:
    path = service.uploads.data_path(upload.id)

    def digest_and_kind() -> tuple[str, str]:
        digest = hashlib.sha256()
        with open(path, "rb") as source:
            head = source.read(SNIFF_BYTES)
            digest.update(head)
            while block := source.read(1 << 20):
                digest.update(block)
        return digest.hexdigest(), service.kind_of(head)

    try:
        sha256, kind = await anyio.to_thread.run_sync(digest_and_kind)
        stored = await anyio.to_thread.run_sync(put_file, service, path, sha256)
    except Refused:
        service.uploads.remove(upload.id)
        raise
    service.uploads.remove(upload.id)
    return await record(service, upload.user_id, upload.file_id, stored, kind, upload.name)


def routes(prefix: str) -> list[Route]:
    """The tus endpoints under the service's prefix."""
    return [
        Route(prefix + "/tus/{file_id:int}", tus_create, methods=["POST"]),
        Route(prefix + "/tus/{file_id:int}", tus_options, methods=["OPTIONS"]),
        Route(prefix + "/tus/{file_id:int}/{upload_id}", tus_head, methods=["HEAD"]),
        Route(prefix + "/tus/{file_id:int}/{upload_id}", tus_patch, methods=["PATCH"]),
        Route(prefix + "/tus/{file_id:int}/{upload_id}", tus_delete, methods=["DELETE"]),
    ]
