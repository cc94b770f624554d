"""Sign-in, sessions, CSRF, throttling, invitations and password resets, on both databases."""

from __future__ import annotations

from datetime import timedelta

from app_support.client import BASE, PASSWORD, queued_mail, signed_in
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.core.deps import cookie_name
from app.models import Invitation, PasswordReset, User, UserSession, utcnow


def _login(client, email, password=PASSWORD):
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_sign_in_sets_a_hardened_cookie_and_stores_only_a_hash(app, world):
    client = TestClient(app, base_url=BASE)
    response = _login(client, "PM@studio.test")  # email is case-insensitive
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-eyeshots=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag.lower() in cookie.lower()
    token = client.cookies[cookie_name(app.state.settings)]
    with app.state.sessionmaker() as db:
        stored = db.scalars(select(UserSession.token_hash)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64
    assert client.get("/api/auth/me").json()["email"] == "pm@studio.test"


def test_wrong_password_and_unknown_email_look_the_same(app, world):
    client = TestClient(app, base_url=BASE)
    wrong = _login(client, "pm@studio.test", "not the password")
    unknown = _login(client, "nobody@studio.test", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_logout_revokes_the_session_server_side(app, world):
    client = signed_in(app, "pm@studio.test")
    stolen = dict(client.cookies)
    assert client.post("/api/auth/logout").status_code == 200
    replay = TestClient(app, base_url=BASE, cookies=stolen)
    assert replay.get("/api/auth/me").status_code == 401


def test_unsafe_requests_need_the_csrf_token(app, world):
    client = signed_in(app, "admin@studio.test")
    token = client.headers.pop("X-CSRF-Token")
    body = {"name": "Initech"}
    assert client.post("/api/orgs", json=body).status_code == 403
    assert (
        client.post("/api/orgs", json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    )
    assert client.post("/api/orgs", json=body, headers={"X-CSRF-Token": token}).status_code == 201
    # forms carry it as a field
    assert client.post("/admin/orgs", data={"name": "Hooli"}).status_code == 403
    ok = client.post(
        "/admin/orgs", data={"name": "Hooli", "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_cross_origin_requests_are_refused(app, world):
    client = signed_in(app, "admin@studio.test")
    evil = client.post("/api/orgs", json={"name": "X"}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    site = client.post("/api/orgs", json={"name": "Y"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403
    anonymous = TestClient(app, base_url=BASE)
    login_csrf = anonymous.post(
        "/sign-in", data={"email": "pm@studio.test", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )  # fmt: skip
    assert login_csrf.status_code == 403


def test_invitation_is_single_use_and_joins_the_client_org(app, world):
    admin = signed_in(app, "admin@studio.test")
    invite = admin.post("/api/auth/invitations",
                        json={"email": "New.Client@acme.test", "role": "client", "client_org_id": world.org})  # fmt: skip
    assert invite.status_code == 201, invite.text
    token = invite.json()["accept_url"].split("token=", 1)[1]
    anonymous = TestClient(app, base_url=BASE)
    page = anonymous.get(f"/invite?token={token}")
    assert page.status_code == 200 and "new.client@acme.test" in page.text
    accepted = anonymous.post("/invite", data={"token": token, "name": "Nina", "password": PASSWORD},
                              follow_redirects=False)  # fmt: skip
    assert accepted.status_code == 303 and accepted.headers["location"] == "/home"
    me = anonymous.get("/api/auth/me").json()
    assert me["role"] == "client" and me["client_org_id"] == world.org
    projects = anonymous.get("/api/projects").json()
    assert [p["id"] for p in projects] == [world.project]
    again = TestClient(app, base_url=BASE).post(
        "/api/auth/invitations/accept", json={"token": token, "name": "Eve", "password": PASSWORD}
    )
    assert again.status_code == 404


def test_expired_invitation_is_refused(app, world):
    admin = signed_in(app, "admin@studio.test")
    url = admin.post(
        "/api/auth/invitations", json={"email": "late@studio.test", "role": "creative"}
    ).json()["accept_url"]
    with app.state.sessionmaker.begin() as db:
        db.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert TestClient(app, base_url=BASE).get(url.replace(BASE, "")).status_code == 404


def test_only_admins_invite_staff_and_pms_invite_clients(app, world):
    pm = signed_in(app, "pm@studio.test")
    staff = pm.post("/api/auth/invitations", json={"email": "x@studio.test", "role": "admin"})
    assert staff.status_code == 403
    client = pm.post("/api/auth/invitations",
                     json={"email": "y@acme.test", "role": "client", "client_org_id": world.org})  # fmt: skip
    assert client.status_code == 201


def test_password_reset_same_reply_single_use_and_revokes_sessions(app, world):
    old_session = signed_in(app, "creative@studio.test")
    anonymous = TestClient(app, base_url=BASE)
    known = anonymous.post("/api/auth/password-reset", json={"email": "creative@studio.test"})
    unknown = anonymous.post("/api/auth/password-reset", json={"email": "ghost@studio.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    mails = queued_mail(app, "creative@studio.test")
    assert len(mails) == 1 and not queued_mail(app, "ghost@studio.test")
    token = mails[0].text_body.split("token=", 1)[1].split()[0]
    new_password = "a brand new password"
    done = anonymous.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": new_password}
    )
    assert done.status_code == 200
    assert old_session.get("/api/auth/me").status_code == 401
    reuse = anonymous.post(
        "/api/auth/password-reset/confirm",
        json={"token": token, "password": "another one entirely"},
    )
    assert reuse.status_code == 404
    assert _login(anonymous, "creative@studio.test", new_password).status_code == 200
    with app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).where(PasswordReset.used_at.is_(None))) == 0


def test_password_change_keeps_this_session_and_ends_the_others(app, world):
    here, elsewhere = signed_in(app, "pm@studio.test"), signed_in(app, "pm@studio.test")
    weak = here.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert weak.status_code == 422
    assert [p["field"] for p in weak.json()["detail"]] == ["new_password"]
    wrong = here.post(
        "/api/auth/password",
        json={"current_password": "not it at all", "new_password": "longer new password"},
    )
    assert wrong.status_code == 403 and wrong.json()["field"] == "current_password"
    ok = here.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "longer new password"},
    )
    assert ok.status_code == 200
    assert here.get("/api/auth/me").status_code == 200
    assert elsewhere.get("/api/auth/me").status_code == 401


def test_deactivated_user_loses_access_at_once(app, world):
    victim = signed_in(app, "other_pm@studio.test")
    admin = signed_in(app, "admin@studio.test")
    assert (
        admin.patch(f"/api/users/{world.users['other_pm']}", json={"is_active": False}).status_code
        == 200
    )
    assert victim.get("/api/auth/me").status_code == 401
    assert _login(TestClient(app, base_url=BASE), "other_pm@studio.test").status_code == 401


def test_pages_redirect_to_sign_in_and_back(app, world):
    client = TestClient(app, base_url=BASE)
    first = client.get("/projects?x=1", follow_redirects=False)
    assert (
        first.status_code == 303
        and first.headers["location"] == "/sign-in?next=%2Fprojects%3Fx%3D1"
    )
    signed = client.post("/sign-in", data={"email": "pm@studio.test", "password": PASSWORD,
                                           "next": "/projects?x=1"}, follow_redirects=False)  # fmt: skip
    assert signed.headers["location"] == "/projects?x=1"
    evil = TestClient(app, base_url=BASE).post(
        "/sign-in", data={"email": "pm@studio.test", "password": PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )  # fmt: skip
    assert evil.headers["location"] == "/home"


def test_argon2id_is_the_password_hash(app, world):
    with app.state.sessionmaker() as db:
        stored = db.scalar(select(User.password_hash).where(User.email == "pm@studio.test"))
    assert stored.startswith("$argon2id$")


def test_cleanup_removes_only_what_can_no_longer_matter(app, world):
    from app.auth.service import purge_expired

    live = signed_in(app, "pm@studio.test")
    _login(TestClient(app, base_url=BASE), "pm@studio.test", "wrong password!")
    with app.state.sessionmaker.begin() as db:
        db.add(UserSession(user_id=world.users["creative"], token_hash="0" * 64,
                           expires_at=utcnow() - timedelta(seconds=1)))  # fmt: skip
    with app.state.sessionmaker.begin() as db:
        counts = purge_expired(db, app.state.auth)
    assert counts["sessions"] == 1 and counts["login_attempts"] == 0
    assert live.get("/api/auth/me").status_code == 200


def test_reset_links_per_hour_are_capped_with_the_same_reply(app, world):
    from app.auth.service import RESETS_PER_HOUR

    anonymous = TestClient(app, base_url=BASE)
    replies = {anonymous.post("/api/auth/password-reset", json={"email": "pm@studio.test"}).text
               for _ in range(RESETS_PER_HOUR + 2)}  # fmt: skip
    assert len(replies) == 1
    assert len(queued_mail(app, "pm@studio.test")) == RESETS_PER_HOUR
