"""The session cookie's flags, in one place for the page and API sign-in paths."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.deps import STALE_SESSION, cookie_name
from app.core.settings import Settings


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        cookie_name(settings),
        token,
        max_age=settings.session_days * 86400,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(settings), path="/", secure=settings.cookie_secure, httponly=True,
        samesite="lax",
    )  # fmt: skip


def client_ip(request_client: object) -> str:
    host = getattr(request_client, "host", None)
    return host or "unknown"


class StaleCookieCleaner:
    """Deletes a session cookie that named no live session (app.core.deps.mark_stale), unless
    the response sets a new one (a sign-in)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.name = cookie_name(settings)
        deletion = Response()
        clear_session_cookie(deletion, settings)
        self.deletion = deletion.headers["set-cookie"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("state", {}).get(
                STALE_SESSION
            ):
                headers = MutableHeaders(scope=message)
                if not any(v.startswith(f"{self.name}=") for v in headers.getlist("set-cookie")):
                    headers.append("set-cookie", self.deletion)
            await send(message)

        await self.app(scope, receive, send_wrapper)
