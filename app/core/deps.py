"""Request-scoped dependencies: database session, the signed-in user, CSRF protection."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.auth.service import AuthContext, resolve_session
from app.core.db import session_scope
from app.core.errors import Forbidden, NotAuthenticated
from app.core.security import csrf_token, hash_token, tokens_equal
from app.core.settings import Settings
from app.models import User

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def cookie_name(settings: Settings) -> str:
    # the __Host- prefix makes browsers refuse the cookie unless Secure, Path=/ and host-only
    return "__Host-eyeshots" if settings.cookie_secure else "eyeshots_session"


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    yield from session_scope(request.app.state.sessionmaker)


# "function": commit before the response leaves, so a client that acts on a response (follows
# a redirect, sends the next request with its new cookie) always sees what it wrote
DB = Annotated[Session, Depends(get_db, scope="function")]


def get_auth(request: Request) -> AuthContext:
    return request.app.state.auth


@dataclass(frozen=True)
class Principal:
    user: User
    session_hash: str

    def csrf(self, settings: Settings) -> str:
        return csrf_token(settings.secret_key, self.session_hash)


STALE_SESSION = "stale_session"


def mark_stale(request: Request) -> None:
    """The cookie names no live session: treat the request as anonymous and clear the cookie
    on the way out (app.core.cookies.StaleCookieCleaner), so it cannot lock anyone out."""
    setattr(request.state, STALE_SESSION, True)


def optional_principal(request: Request, db: DB) -> Principal | None:
    if hasattr(request.state, "principal"):
        return request.state.principal
    token = request.cookies.get(cookie_name(request.app.state.settings))
    found = resolve_session(db, token) if token else None
    principal = Principal(*found) if found else None
    if token and principal is None:
        mark_stale(request)
    request.state.principal = principal
    return principal


def require_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise NotAuthenticated("Sign in first")
    return principal


def current_user(principal: Annotated[Principal, Depends(require_principal)]) -> User:
    return principal.user


def _session_is_live(request: Request, token: str) -> bool:
    with request.app.state.sessionmaker() as db:
        return resolve_session(db, token) is not None


def _own_origins(request: Request, settings: Settings) -> set[str]:
    configured = urlsplit(settings.base_url)
    return {
        f"{configured.scheme}://{configured.netloc}",
        f"{request.url.scheme}://{request.url.netloc}",
    }


async def csrf_protect(request: Request) -> None:
    """Unsafe requests must come from our own pages and, when signed in, carry the token."""
    if request.method in SAFE_METHODS:
        return
    settings: Settings = request.app.state.settings
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise Forbidden("Cross-site request refused")
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin not in _own_origins(request, settings):
        raise Forbidden("Request from another origin refused")
    token = request.cookies.get(cookie_name(settings))
    if not token:
        return
    if not _session_is_live(request, token):
        # an ended, expired or garbage cookie protects no session: the request is anonymous
        # (sign-in, forgot-password, invitations), and the Origin checks above still apply
        mark_stale(request)
        return
    expected = csrf_token(settings.secret_key, hash_token(token))
    provided = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if provided is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        provided = value if isinstance(value, str) else None
    if not provided or not tokens_equal(provided, expected):
        raise Forbidden("Missing or wrong CSRF token; reload the page and try again")


CurrentUser = Annotated[User, Depends(current_user)]
CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
Auth = Annotated[AuthContext, Depends(get_auth)]
AppSettings = Annotated[Settings, Depends(get_settings)]
