"""Single sign-on through an OpenID Connect provider on loopback (authorization code + PKCE)."""

from __future__ import annotations

import httpx
import pytest
from app_support.client import make_app
from app_support.idp import make_idp
from app_support.server import free_port, serving
from sqlalchemy import select

from app.auth.service import create_admin
from app.models import User, UserSession

CLIENT_ID, CLIENT_SECRET = "eyeshots", "idp-secret"


@pytest.fixture
def sso(engine, migrated_url, tmp_path):
    idp = make_idp(CLIENT_ID, CLIENT_SECRET)
    idp_port, app_port = free_port(), free_port()
    idp.state.issuer = f"http://127.0.0.1:{idp_port}"
    base = f"http://127.0.0.1:{app_port}"
    app = make_app(migrated_url, tmp_path, cookie_secure=False, base_url=base,
                   oidc_discovery_url=f"{idp.state.issuer}/.well-known/openid-configuration",
                   oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET)  # fmt: skip
    with app.state.sessionmaker.begin() as db:
        create_admin(db, app.state.auth, "ada@studio.test", "Ada", "a long enough password")
    with serving(idp, idp_port), serving(app, app_port):
        yield app, idp, base


def _sign_in(base: str) -> httpx.Response:
    with httpx.Client(base_url=base, follow_redirects=True) as browser:
        assert "/auth/oidc/login" in browser.get("/sign-in").text
        return browser.get("/auth/oidc/login")


def test_verified_email_links_once_then_the_subject_signs_in(sso):
    app, idp, base = sso
    idp.state.identity = {"sub": "kc-123", "email": "ADA@studio.test", "email_verified": True}
    first = _sign_in(base)
    assert first.status_code == 200 and str(first.url) == f"{base}/home" and "Ada" in first.text
    with app.state.sessionmaker() as db:
        user = db.scalar(select(User).where(User.email == "ada@studio.test"))
        assert (user.external_issuer, user.external_subject) == (idp.state.issuer, "kc-123")
    # the provider's email changed; the link by (issuer, subject) still holds
    idp.state.identity = {"sub": "kc-123", "email": "ada@new.test", "email_verified": True}
    assert str(_sign_in(base).url) == f"{base}/home"


@pytest.mark.parametrize(
    "identity",
    [
        {"sub": "kc-9", "email": "stranger@studio.test", "email_verified": True},
        {"sub": "kc-9", "email": "ada@studio.test", "email_verified": False},
        {"sub": "kc-9", "email": "ada@studio.test"},
    ],
)
def test_no_account_without_a_verified_match(sso, identity):
    app, idp, base = sso
    idp.state.identity = identity
    response = _sign_in(base)
    assert response.status_code == 403 and "ask for an invitation" in response.text
    with app.state.sessionmaker() as db:
        assert db.scalars(select(UserSession)).all() == []


def test_a_forged_callback_signs_nobody_in(sso):
    app, idp, base = sso
    with httpx.Client(base_url=base) as browser:
        forged = browser.get("/auth/oidc/callback", params={"code": "x", "state": "y"})
    assert forged.status_code == 403
    with app.state.sessionmaker() as db:
        assert db.scalars(select(UserSession)).all() == []
