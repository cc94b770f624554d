"""A stale or garbage session cookie never locks anyone out of signing in (issue 15, finding 1):
sign-in, forgot-password, invitation acceptance and the API login work and clear the cookie."""

from __future__ import annotations

import pytest
from app_support.client import BASE, PASSWORD, signed_in
from fastapi.testclient import TestClient

from app.core.deps import cookie_name

GARBAGE = ["stale", "x" * 43, "%00%ff;", "0" * 300]


def _with_cookie(app, value: str) -> TestClient:
    client = TestClient(app, base_url=BASE, follow_redirects=False)
    client.headers["Cookie"] = f"{cookie_name(app.state.settings)}={value}"
    return client


def _session_cookies(app, response) -> list[str]:
    name = cookie_name(app.state.settings)
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


def _is_deletion(header: str) -> bool:
    return "max-age=0" in header.lower()


def _clears_cookie(app, response) -> bool:
    return any(_is_deletion(h) for h in _session_cookies(app, response))


@pytest.mark.parametrize("value", GARBAGE)
def test_sign_in_page_and_form_work_with_a_garbage_cookie(app, world, value):
    client = _with_cookie(app, value)
    page = client.get("/sign-in")
    assert page.status_code == 200 and _clears_cookie(app, page)
    wrong = client.post("/sign-in", data={"email": "pm@studio.test", "password": "nope nope nope"})
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    assert _clears_cookie(app, wrong)
    ok = client.post("/sign-in", data={"email": "pm@studio.test", "password": PASSWORD})
    assert ok.status_code == 303 and ok.headers["location"] == "/home"
    cookies = _session_cookies(app, ok)
    assert len(cookies) == 1 and not _is_deletion(cookies[0]), "one new session cookie"


def test_session_ended_by_a_role_change_does_not_block_signing_in_again(app, world):
    """The reported case: an admin changes a signed-in user's role, which ends their sessions."""
    victim = signed_in(app, "other_creative@studio.test")
    stale = victim.cookies[cookie_name(app.state.settings)]
    admin = signed_in(app, "admin@studio.test")
    patched = admin.patch(f"/api/users/{victim.get('/api/auth/me').json()['id']}",
                          json={"role": "project_manager"})  # fmt: skip
    assert patched.status_code == 200
    browser = _with_cookie(app, stale)
    again = browser.post(
        "/sign-in", data={"email": "other_creative@studio.test", "password": PASSWORD}
    )
    assert again.status_code == 303, again.text
    api = _with_cookie(app, stale).post(
        "/api/auth/login", json={"email": "other_creative@studio.test", "password": PASSWORD}
    )
    assert api.status_code == 200 and api.json()["user"]["role"] == "project_manager"


def test_forgot_password_and_reset_work_with_a_stale_cookie(app, world):
    client = _with_cookie(app, "stale")
    assert client.get("/forgot-password").status_code == 200
    sent = client.post("/forgot-password", data={"email": "pm@studio.test"})
    assert sent.status_code == 200 and "on its way" in sent.text and _clears_cookie(app, sent)
    api = _with_cookie(app, "stale").post(
        "/api/auth/password-reset", json={"email": "pm@studio.test"}
    )
    assert api.status_code == 202 and _clears_cookie(app, api)
    reset = _with_cookie(app, "stale").post(
        "/reset-password", data={"token": "t", "password": PASSWORD}
    )
    assert reset.status_code == 404  # a wrong token, not a CSRF refusal


def test_invitation_acceptance_works_with_a_stale_cookie(app, world):
    admin = signed_in(app, "admin@studio.test")
    url = admin.post(
        "/api/auth/invitations", json={"email": "newbie@studio.test", "role": "creative"}
    ).json()["accept_url"]
    path = url.replace(BASE, "")
    client = _with_cookie(app, "stale")
    assert client.get(path).status_code == 200
    token = path.split("token=", 1)[1] if "token=" in path else path.rsplit("/", 1)[1]
    accepted = client.post("/invite", data={"token": token, "name": "Newbie", "password": PASSWORD})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/home"


def test_a_live_session_still_needs_the_csrf_token(app, world):
    """Clearing stale cookies must not weaken CSRF protection of a live session."""
    client = signed_in(app, "admin@studio.test")
    client.headers.pop("X-CSRF-Token")
    assert client.post("/api/orgs", json={"name": "Initech"}).status_code == 403
    assert client.post("/sign-out", data={}).status_code == 403
