"""Optional sign-in through an external OpenID Connect provider, configured by discovery URL.

The provider proves who someone is; it does not create accounts. A person signs in by OIDC
when their account is linked to the provider's (issuer, subject) — linked on first use when
the provider vouches for the same email (email_verified) of an active account. Everyone else
still needs an invitation.
"""

from __future__ import annotations

import logging

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from app.auth import repository as repo
from app.auth import service
from app.core.cookies import client_ip, set_session_cookie
from app.core.settings import Settings
from app.models import User
from app.web.render import redirect, render

log = logging.getLogger("eyeshots.oidc")
PROVIDER = "idp"


def make_oauth(settings: Settings) -> OAuth:
    oauth = OAuth()
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        server_metadata_url=settings.oidc_discovery_url,
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )
    return oauth


router = APIRouter()


def _refuse(request: Request, message: str) -> Response:
    return render(request, "error.html", None, 403, title="Single sign-on refused", message=message)


@router.get("/auth/oidc/login")
async def oidc_login(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    client = request.app.state.oauth.create_client(PROVIDER)
    callback = f"{settings.base_url.rstrip('/')}/auth/oidc/callback"
    return await client.authorize_redirect(request, callback)


@router.get("/auth/oidc/callback")
async def oidc_callback(request: Request) -> Response:
    client = request.app.state.oauth.create_client(PROVIDER)
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as error:
        # state mismatch, a denied consent or a bad code: never sign anyone in
        log.warning("OIDC callback refused: %s", error.error)
        return _refuse(request, "The identity provider's answer could not be verified; try again.")
    claims = token.get("userinfo") or {}
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not issuer or not subject:
        return _refuse(request, "The identity provider sent no verified identity.")
    app = request.app
    with app.state.sessionmaker.begin() as db:
        user = db.scalar(
            select(User).where(User.external_issuer == issuer, User.external_subject == subject)
        )
        if user is None and claims.get("email_verified") is True and claims.get("email"):
            candidate = repo.user_by_email(db, str(claims["email"]))
            if candidate is not None and candidate.external_subject is None:
                candidate.external_issuer, candidate.external_subject = issuer, subject
                user = candidate
        if user is None or not user.is_active:
            return _refuse(
                request, "No active Eye Shots account matches this identity; ask for an invitation."
            )
        session_token = service.start_session(
            db, app.state.auth, user, request.headers.get("user-agent"), client_ip(request.client)
        )
    response = redirect("/home")
    set_session_cookie(response, app.state.settings, session_token)
    return response
