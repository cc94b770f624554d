"""One-shot notices across a POST-redirect-GET: a signed, short-lived cookie read once by the
page the redirect lands on (a reload neither re-submits the form nor repeats the notice)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from fastapi import Request
from starlette.responses import Response

from app.core.settings import Settings

MAX_AGE = 120


def _name(settings: Settings) -> str:
    return "__Host-eyeshots-flash" if settings.cookie_secure else "eyeshots_flash"


def _sign(settings: Settings, payload: str) -> str:
    mac = hmac.new(settings.secret_key.encode(), b"flash:" + payload.encode(), hashlib.sha256)
    return mac.hexdigest()


def set_flash(response: Response, settings: Settings, **notice: str) -> None:
    payload = base64.urlsafe_b64encode(json.dumps(notice).encode()).decode()
    response.set_cookie(_name(settings), f"{payload}.{_sign(settings, payload)}", max_age=MAX_AGE,
                        path="/", secure=settings.cookie_secure, httponly=True, samesite="lax")  # fmt: skip


def read_flash(request: Request, settings: Settings) -> dict[str, str]:
    """The notice set by the request before, or {} (missing, forged or garbled)."""
    payload, _, mac = request.cookies.get(_name(settings), "").rpartition(".")
    if not payload or not hmac.compare_digest(mac.encode(), _sign(settings, payload).encode()):
        return {}
    try:
        notice = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in notice.items()} if isinstance(notice, dict) else {}


def clear_flash(request: Request, response: Response, settings: Settings) -> None:
    if _name(settings) in request.cookies:
        response.delete_cookie(_name(settings), path="/", secure=settings.cookie_secure,
                               httponly=True, samesite="lax")  # fmt: skip
