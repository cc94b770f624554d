"""The file service ASGI app: streaming uploads (PUT), resumable uploads (tus 1.0, in
app/files/tus.py), downloads answered with X-Accel-Redirect so nginx sends the bytes."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from contextlib import asynccontextmanager
from urllib.parse import quote, unquote

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import AppError
from app.core.settings import Settings, get_settings
from app.files import access, policy, tus
from app.files.errors import Refused, too_large
from app.files.names import BadName, clean_name
from app.files.receive import Disconnected, fsync, receive
from app.files.service import Service, bearer, declared_length, put_file, record, session
from app.storage.disposition import content_disposition

access_log = logging.getLogger("eyeshots.files.access")


def _name_header(request: Request) -> str:
    # percent-encoded UTF-8: header values are Latin-1 on the wire
    try:
        return clean_name(unquote(request.headers.get("x-filename", ""), errors="strict"))
    except UnicodeDecodeError:
        raise Refused(400, "X-Filename must be percent-encoded UTF-8") from None
    except BadName as error:
        raise Refused(400, str(error)) from None


async def upload(request: Request) -> Response:
    """PUT <prefix>upload/<file id>: the raw body becomes the file's next version."""
    service: Service = request.app.state.service
    settings = service.settings
    file_id = request.path_params["file_id"]
    grant = access.grant_of(service.ring, bearer(request), "upload")
    length = declared_length(request)
    if length is not None:
        policy.check_size(settings, length)
    await anyio.to_thread.run_sync(access.check_upload, service.factory, grant, file_id,
                                   length or 0, settings.files_project_quota_bytes, session(request))  # fmt: skip
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
        stored = await anyio.to_thread.run_sync(put_file, service, temp, digest.hexdigest())
    finally:
        temp.unlink(missing_ok=True)
    body = await record(service, grant.user_id, file_id, stored, kind, name)
    return JSONResponse(body, status_code=201)


async def download(request: Request) -> Response:
    """GET <prefix>download/<version id>?t=<token>[&inline=1]: nginx sends the bytes."""
    service: Service = request.app.state.service
    version_id = request.path_params["version_id"]
    inline = request.query_params.get("inline") == "1"
    token = request.query_params.get("t") or bearer(request)
    grant = access.grant_of(service.ring, token, "view" if inline else "download")
    found = await anyio.to_thread.run_sync(access.check_download, service.factory, grant,
                                           version_id, inline, session(request))  # fmt: skip
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
        headers |= tus.TUS  # tus 1.0: on every response but OPTIONS, errors included
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
        *tus.routes(prefix),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Refused: _refused, AppError: _app_error})  # fmt: skip
    app.state.service = service
    return AccessLog(app)
