"""The file service ASGI app: streaming uploads (PUT), resumable uploads (tus 1.0), downloads
answered with X-Accel-Redirect so nginx sends the bytes."""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import logging
import os
import time
from contextlib import asynccontextmanager
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.assets.service import record_version
from app.core.db import make_engine, make_sessionmaker
from app.core.deps import cookie_name
from app.core.errors import AppError, Forbidden
from app.core.file_tokens import KeyRing
from app.core.settings import Settings, get_settings
from app.files import access, policy
from app.files.errors import Refused, denied, disk_full, too_large
from app.files.names import BadName, clean_name
from app.files.receive import Disconnected, fsync, receive
from app.files.sniff import SNIFF_BYTES
from app.files.uploads import Upload, UploadStore
from app.models import File, Project, User
from app.storage.base import Storage, StoredObject
from app.storage.disposition import content_disposition
from app.storage.factory import storage_from_settings

TUS_VERSION = "1.0.0"
TUS = {"Tus-Resumable": TUS_VERSION}
access_log = logging.getLogger("eyeshots.files.access")


class Service:
    """Everything a request needs, built once from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ring = KeyRing.from_settings(settings.file_token_keys, settings.file_token_keys_file)
        self.engine = make_engine(settings.effective_database_url)
        self.factory = make_sessionmaker(self.engine)
        self.storage: Storage = storage_from_settings(settings)
        # bodies land on the storage root's filesystem, so finishing one is a rename
        self.temp_dir = settings.storage_dir / "tmp"
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        self.uploads = UploadStore(
            settings.storage_dir / "uploads", settings.files_upload_expiry_hours * 3600
        )

    def check_head(self, head: bytes) -> None:
        policy.media_type(self.settings, head)

    def kind_of(self, head: bytes) -> str:
        return policy.media_type(self.settings, head)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _session(request: Request) -> str | None:
    return request.cookies.get(cookie_name(request.app.state.service.settings))


def _name_header(request: Request) -> str:
    # percent-encoded UTF-8: header values are Latin-1 on the wire
    try:
        return clean_name(unquote(request.headers.get("x-filename", ""), errors="strict"))
    except UnicodeDecodeError:
        raise Refused(400, "X-Filename must be percent-encoded UTF-8") from None
    except BadName as error:
        raise Refused(400, str(error)) from None


def _declared_length(request: Request, header: str = "content-length") -> int | None:
    value = request.headers.get(header)
    if value is None:
        return None
    if not value.isdigit():
        raise Refused(400, f"{header} must be a non-negative integer")
    return int(value)


async def _record(
    service: Service, grant_user: int, file_id: int, stored: StoredObject, kind: str, name: str
) -> dict[str, Any]:
    """Record the version after the rename, re-checking permission and quota at commit time."""

    def work() -> dict[str, Any]:
        with service.factory.begin() as db:
            user, file = db.get(User, grant_user), db.get(File, file_id)
            if user is None or file is None:
                service.storage.delete(stored.key)
                raise denied()
            project = db.get(Project, file.project_id)
            assert project is not None
            try:
                policy.check_quota(
                    db, service.settings.files_project_quota_bytes, project.id, stored.size
                )
            except Refused:
                service.storage.delete(stored.key)
                raise
            try:
                version = record_version(db, service.storage, user, file, project, stored, kind,
                                         name)  # fmt: skip
            except Forbidden:
                raise denied() from None
            return {"version_id": version.id, "number": version.number, "size": version.size,
                    "sha256": version.sha256, "content_type": version.content_type}  # fmt: skip

    return await anyio.to_thread.run_sync(work)


async def upload(request: Request) -> Response:
    """PUT <prefix>upload/<file id>: the raw body becomes the file's next version."""
    service: Service = request.app.state.service
    settings = service.settings
    file_id = request.path_params["file_id"]
    grant = access.grant_of(service.ring, _bearer(request), "upload")
    length = _declared_length(request)
    if length is not None:
        policy.check_size(settings, length)
    await anyio.to_thread.run_sync(access.check_upload, service.factory, grant, file_id,
                                   length or 0, settings.files_project_quota_bytes, _session(request))  # fmt: skip
    name = _name_header(request)
    expected_sha = request.headers.get("x-content-sha256", "").lower() or None
    temp = service.temp_dir / f"{os.urandom(16).hex()}.part"
    digest, kind = hashlib.sha256(), ""

    def head(data: bytes) -> None:
        nonlocal kind
        kind = service.kind_of(data)

    limit = settings.files_max_upload_bytes
    try:
        with open(temp, "wb") as out:
            try:
                size = await receive(request.stream(), out, digest, limit, lambda: too_large(limit),
                                     head)  # fmt: skip
            except Disconnected:
                raise Refused(400, "the upload was interrupted; nothing was saved") from None
            if length is not None and size != length:
                raise Refused(400, f"received {size} bytes but Content-Length said {length}")
            if expected_sha and expected_sha != digest.hexdigest():
                raise Refused(400, "the body does not match X-Content-SHA256; nothing was saved")
            await anyio.to_thread.run_sync(fsync, out)
        stored = await anyio.to_thread.run_sync(_put_file, service, temp, digest.hexdigest())
    finally:
        temp.unlink(missing_ok=True)
    body = await _record(service, grant.user_id, file_id, stored, kind, name)
    return JSONResponse(body, status_code=201)


def _put_file(service: Service, path: Path, sha256: str) -> StoredObject:
    try:
        return service.storage.put_file(path, sha256)
    except OSError as error:
        if error.errno in (28, 122):  # ENOSPC, EDQUOT
            raise disk_full() from None
        raise


async def download(request: Request) -> Response:
    """GET <prefix>download/<version id>?t=<token>[&inline=1]: nginx sends the bytes."""
    service: Service = request.app.state.service
    version_id = request.path_params["version_id"]
    inline = request.query_params.get("inline") == "1"
    token = request.query_params.get("t") or _bearer(request)
    grant = access.grant_of(service.ring, token, "view" if inline else "download")
    found = await anyio.to_thread.run_sync(access.check_download, service.factory, grant,
                                           version_id, inline, _session(request))  # fmt: skip
    url = service.storage.download_url(found.key, found.name, found.content_type,
                                       service.settings.file_token_seconds)  # fmt: skip
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if url is not None:
        return RedirectResponse(url, status_code=302, headers=headers)
    internal = service.settings.files_internal_prefix + quote(
        service.storage.internal_path(found.key) or ""
    )
    headers |= {
        "X-Accel-Redirect": internal,
        "Content-Disposition": content_disposition(
            found.name, "inline" if inline else "attachment"
        ),
    }
    return Response(b"", media_type=found.content_type, headers=headers)


# --- tus 1.0: core, creation, termination, expiration ---


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
    grant = access.grant_of(service.ring, _bearer(request), "upload")
    length = _declared_length(request, "upload-length")
    if length is None:
        raise Refused(400, "Upload-Length is required (deferred length is not supported)")
    policy.check_size(settings, length)
    await anyio.to_thread.run_sync(access.check_upload, service.factory, grant, file_id, length,
                                   settings.files_project_quota_bytes, _session(request))  # fmt: skip
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
    grant = access.grant_of(service.ring, _bearer(request), "upload")
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
    offset = _declared_length(request, "upload-offset")
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
        stored = await anyio.to_thread.run_sync(_put_file, service, path, sha256)
    except Refused:
        service.uploads.remove(upload.id)
        raise
    service.uploads.remove(upload.id)
    return await _record(service, upload.user_id, upload.file_id, stored, kind, upload.name)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


class AccessLog:
    """One line per request: method, path (never the query string, which carries tokens),
    status, bytes received, seconds. Replaces uvicorn's access log, which prints the query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status, received = time.monotonic(), 0, 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return message

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, counting_receive, capture)
        finally:
            access_log.info('%s "%s %s" %s in=%d %.3fs', scope["client"][0] if scope.get("client")
                            else "-", scope["method"], scope["path"], status or 499, received,
                            time.monotonic() - start)  # fmt: skip


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, Refused)
    headers = dict(error.headers)
    if "/tus/" in request.url.path and request.method != "OPTIONS":
        headers |= TUS  # tus 1.0: on every response but OPTIONS, errors included
    return JSONResponse({"detail": error.message}, status_code=error.status, headers=headers)


async def _app_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, AppError)
    return JSONResponse({"detail": error.message}, status_code=error.status_code)


def create_app(settings: Settings | None = None) -> ASGIApp:
    settings = settings or get_settings()
    service = Service(settings)
    prefix = settings.files_prefix.rstrip("/")

    @asynccontextmanager
    async def lifespan(app: Starlette):  # noqa: ANN202
        yield
        service.engine.dispose()

    routes = [
        Route("/healthz", healthz),
        Route(prefix + "/upload/{file_id:int}", upload, methods=["PUT"]),
        Route(prefix + "/download/{version_id:int}", download, methods=["GET", "HEAD"]),
        Route(prefix + "/tus/{file_id:int}", tus_create, methods=["POST"]),
        Route(prefix + "/tus/{file_id:int}", tus_options, methods=["OPTIONS"]),
        Route(prefix + "/tus/{file_id:int}/{upload_id}", tus_head, methods=["HEAD"]),
        Route(prefix + "/tus/{file_id:int}/{upload_id}", tus_patch, methods=["PATCH"]),
        Route(prefix + "/tus/{file_id:int}/{upload_id}", tus_delete, methods=["DELETE"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Refused: _refused, AppError: _app_error})  # fmt: skip
    app.state.service = service
    return AccessLog(app)
