"""The session cookie's flags, in one place for the page and API sign-in paths."""

from __future__ import annotations

from starlette.responses import Response

from app.core.deps import cookie_name
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
