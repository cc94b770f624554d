"""Every route × every role: the expected allow/deny, written down here independently of the
policy table, and a failure if a route exists that this table does not cover.

"Deny" is 401, 403, 404 or the redirect to sign in first (`/sign-in?next=`); anything else below 500 is "allow"
(a 409 or 422 from an allowed caller still means the request got past authorization).
Each allowed caller of an unsafe route gets a freshly built world, so one role's change cannot
mask another's; denied callers (and reads) share one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from app_support.client import BASE, PASSWORD, session_for
from app_support.database import truncate_all
from app_support.world import PEOPLE, World, build_world
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from app.core.deps import cookie_name
from app.core.security import hash_token, new_token
from app.models import Invitation, PasswordReset, Role, utcnow

ROLES = ["anonymous", *PEOPLE]
EVERYONE = set(ROLES)
SIGNED_IN = set(PEOPLE)
INSIDERS = {"admin", "pm", "creative", "client"}  # may see the project
STUDIO_INSIDERS = {"admin", "pm", "creative"}
MANAGERS = {"admin", "pm"}
PMS = {"admin", "pm", "other_pm"}
REVIEWERS = {"admin", "pm", "client"}
INVOICE_ROLES = {"admin", "pm", "other_pm", "client", "other_client"}
ADMIN = {"admin"}

Request = dict[str, object]


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # the route template, as FastAPI lists it
    allowed: set[str]
    build: Callable[[World, object], Request]
    label: str = ""


def _invitation(app) -> str:
    token = new_token()
    with app.state.sessionmaker.begin() as db:
        db.add(Invitation(email=f"inv-{token[:8].lower()}@acme.test", role=Role.CREATIVE,
                          token_hash=hash_token(token), expires_at=utcnow() + timedelta(days=1)))  # fmt: skip
    return token


def _project_invitation(app, world: World) -> int:
    """A pending client invitation filed under the world's project (as its PM would make)."""
    with app.state.sessionmaker.begin() as db:
        invitation = Invitation(email="contact@acme.test", role=Role.CLIENT, client_org_id=world.org,
                                project_id=world.project, token_hash=hash_token(new_token()),
                                expires_at=utcnow() + timedelta(days=1))  # fmt: skip
        db.add(invitation)
        db.flush()
        return invitation.id


def _queued_mail(app) -> int:
    from app.mail.outbox import enqueue

    with app.state.sessionmaker.begin() as db:
        return enqueue(db, "someone@acme.test", "notification", "Hello", name="S", message="m",
                       link="").id  # fmt: skip


def _reset(app, world: World) -> str:
    token = new_token()
    with app.state.sessionmaker.begin() as db:
        db.add(PasswordReset(user_id=world.users["other_creative"], token_hash=hash_token(token),
                             expires_at=utcnow() + timedelta(hours=1)))  # fmt: skip
    return token


def get(url: str) -> Callable[[World, object], Request]:
    return lambda w, app: {"url": url.format(w=w)}


C = Case
NEW_PASSWORD = "another long password"
CASES: list[Case] = [
    # operational and static
    C("GET", "/healthz", EVERYONE, get("/healthz")),
    C("GET", "/readyz", EVERYONE, get("/readyz")),
    C("GET", "/metrics", EVERYONE, get("/metrics")),
    C("GET", "/api/openapi.json", EVERYONE, get("/api/openapi.json")),
    C("GET", "/api/docs", EVERYONE, get("/api/docs")),
    C("GET", "/static", EVERYONE, get("/static/app.css")),
    C("GET", "/favicon.ico", EVERYONE, get("/favicon.ico")),
    # auth API
    C("POST", "/api/auth/login", EVERYONE,
      lambda w, app: {"json": {"email": w.emails["pm"], "password": PASSWORD}}),
    C("POST", "/api/auth/logout", SIGNED_IN, lambda w, app: {}),
    C("GET", "/api/auth/me", SIGNED_IN, get("/api/auth/me")),
    C("POST", "/api/auth/password", SIGNED_IN,
      lambda w, app: {"json": {"current_password": PASSWORD, "new_password": NEW_PASSWORD}}),
    # a PM invites clients only into the organisation of a project they manage (issue 15)
    C("POST", "/api/auth/invitations", MANAGERS,
      lambda w, app: {"json": {"email": "new@acme.test", "role": "client", "client_org_id": w.org}},
      "client invitation"),
    C("POST", "/api/auth/invitations", ADMIN,
      lambda w, app: {"json": {"email": "new@globex.test", "role": "client", "client_org_id": w.other_org}},
      "client invitation, organisation of no managed project"),
    C("POST", "/api/auth/invitations", MANAGERS,
      lambda w, app: {"json": {"email": "new@acme.test", "role": "client", "project_id": w.project}},
      "client invitation by project"),
    C("GET", "/api/auth/invitations", MANAGERS, get("/api/auth/invitations")),
    C("DELETE", "/api/auth/invitations/{invitation_id}", MANAGERS,
      lambda w, app: {"url": f"/api/auth/invitations/{_project_invitation(app, w)}"}),
    C("POST", "/api/auth/invitations", ADMIN,
      lambda w, app: {"json": {"email": "new@studio.test", "role": "creative"}}, "staff invitation"),
    C("POST", "/api/auth/invitations/accept", EVERYONE,
      lambda w, app: {"json": {"token": _invitation(app), "name": "N", "password": NEW_PASSWORD}}),
    C("POST", "/api/auth/password-reset", EVERYONE,
      lambda w, app: {"json": {"email": w.emails["creative"]}}),
    C("POST", "/api/auth/password-reset/confirm", EVERYONE,
      lambda w, app: {"json": {"token": _reset(app, w), "password": NEW_PASSWORD}}),
    # projects, members, organisations, users
    C("GET", "/api/projects", SIGNED_IN, get("/api/projects")),
    C("POST", "/api/projects", PMS, lambda w, app: {"json": {"name": "New", "client_org_id": w.org}}),
    C("GET", "/api/projects/{project_id}", INSIDERS, get("/api/projects/{w.project}")),
    C("PATCH", "/api/projects/{project_id}", MANAGERS,
      lambda w, app: {"url": f"/api/projects/{w.project}", "json": {"status": "on_hold"}}),
    C("GET", "/api/projects/{project_id}/members", INSIDERS, get("/api/projects/{w.project}/members")),
    C("PUT", "/api/projects/{project_id}/members/{user_id}", MANAGERS,
      lambda w, app: {"url": f"/api/projects/{w.project}/members/{w.users['other_creative']}",
                      "json": {"role": "creative"}}),
    C("DELETE", "/api/projects/{project_id}/members/{user_id}", MANAGERS,
      lambda w, app: {"url": f"/api/projects/{w.project}/members/{w.users['creative']}"}),
    C("GET", "/api/orgs", PMS, get("/api/orgs")),
    C("POST", "/api/orgs", PMS, lambda w, app: {"json": {"name": "Initech"}}),
    C("GET", "/api/users", ADMIN, get("/api/users")),
    C("PATCH", "/api/users/{user_id}", ADMIN,
      lambda w, app: {"url": f"/api/users/{w.users['other_creative']}", "json": {"is_active": False}}),
    # files and versions
    C("GET", "/api/projects/{project_id}/files", INSIDERS, get("/api/projects/{w.project}/files")),
    C("POST", "/api/projects/{project_id}/files", STUDIO_INSIDERS,
      lambda w, app: {"url": f"/api/projects/{w.project}/files", "json": {"title": "Cut 2", "kind": "video"}}),
    C("GET", "/api/files/{file_id}", INSIDERS, get("/api/files/{w.file}")),
    C("POST", "/api/files/{file_id}/versions", STUDIO_INSIDERS,
      lambda w, app: {"url": f"/api/files/{w.file}/versions", "content": b"v2 bytes",
                      "headers": {"Content-Type": "video/mp4", "X-Filename": "cut.mp4"}}),
    C("GET", "/api/versions/{version_id}/content", INSIDERS, get("/api/versions/{w.version}/content")),
    C("POST", "/api/files/{file_id}/upload-link", STUDIO_INSIDERS,
      lambda w, app: {"url": f"/api/files/{w.file}/upload-link"}),
    C("GET", "/api/versions/{version_id}/links", INSIDERS, get("/api/versions/{w.version}/links")),
    # reviews
    C("GET", "/api/versions/{version_id}/comments", INSIDERS, get("/api/versions/{w.version}/comments")),
    C("POST", "/api/versions/{version_id}/comments", INSIDERS,
      lambda w, app: {"url": f"/api/versions/{w.version}/comments", "json": {"body": "hi", "t_start": 3}}),
    C("POST", "/api/comments/{comment_id}/resolve", STUDIO_INSIDERS,
      lambda w, app: {"url": f"/api/comments/{w.public_comment}/resolve"}, "client-visible comment"),
    C("POST", "/api/comments/{comment_id}/resolve", STUDIO_INSIDERS,
      lambda w, app: {"url": f"/api/comments/{w.internal_comment}/resolve"}, "internal comment"),
    C("GET", "/api/versions/{version_id}/decisions", INSIDERS, get("/api/versions/{w.version}/decisions")),
    C("PUT", "/api/versions/{version_id}/decision", REVIEWERS,
      lambda w, app: {"url": f"/api/versions/{w.version}/decision", "json": {"decision": "approved"}}),
    # invoices
    C("GET", "/api/invoices", INVOICE_ROLES, get("/api/invoices")),
    C("POST", "/api/invoices", MANAGERS,
      lambda w, app: {"json": {"project_id": w.project, "lines": [
          {"description": "x", "quantity": "1", "unit_price": "5"}]}}),
    C("GET", "/api/invoices/{invoice_id}", MANAGERS, get("/api/invoices/{w.draft_invoice}"), "draft"),
    C("GET", "/api/invoices/{invoice_id}", REVIEWERS, get("/api/invoices/{w.sent_invoice}"), "sent"),
    C("PATCH", "/api/invoices/{invoice_id}", MANAGERS,
      lambda w, app: {"url": f"/api/invoices/{w.draft_invoice}", "json": {"notes": "n"}}),
    C("POST", "/api/invoices/{invoice_id}/{step}", MANAGERS,
      lambda w, app: {"url": f"/api/invoices/{w.draft_invoice}/send"}, "send draft"),
    C("POST", "/api/invoices/{invoice_id}/{step}", MANAGERS,
      lambda w, app: {"url": f"/api/invoices/{w.sent_invoice}/pay"}, "pay sent"),
    # live updates
    C("GET", "/api/projects/{project_id}/events", INSIDERS,
      lambda w, app: {"url": f"/api/projects/{w.project}/events", "stream": True}),
    # pages: sign-in and account
    C("GET", "/", EVERYONE, get("/")),  # a redirect to /home or /sign-in
    C("GET", "/sign-in", EVERYONE, get("/sign-in")),
    C("POST", "/sign-in", EVERYONE,
      lambda w, app: {"data": {"email": w.emails["pm"], "password": PASSWORD}}),
    C("POST", "/sign-out", SIGNED_IN, lambda w, app: {"data": {}}),
    C("GET", "/invite", EVERYONE, lambda w, app: {"url": f"/invite?token={_invitation(app)}"}),
    C("POST", "/invite", EVERYONE,
      lambda w, app: {"data": {"token": _invitation(app), "name": "N", "password": NEW_PASSWORD}}),
    C("GET", "/forgot-password", EVERYONE, get("/forgot-password")),
    C("POST", "/forgot-password", EVERYONE, lambda w, app: {"data": {"email": w.emails["pm"]}}),
    C("GET", "/reset-password", EVERYONE, get("/reset-password?token=abc")),
    C("POST", "/reset-password", EVERYONE,
      lambda w, app: {"data": {"token": _reset(app, w), "password": NEW_PASSWORD}}),
    C("GET", "/access-denied", EVERYONE, get("/access-denied")),
    C("GET", "/account", SIGNED_IN, get("/account")),
    C("POST", "/account/password", SIGNED_IN,
      lambda w, app: {"data": {"current_password": PASSWORD, "new_password": NEW_PASSWORD}}),
    # pages: work
    C("GET", "/home", SIGNED_IN, get("/home")),
    C("GET", "/projects", SIGNED_IN, get("/projects")),
    C("POST", "/projects", PMS, lambda w, app: {"data": {"name": "New", "client_org_id": w.org}}),
    C("GET", "/projects/{project_id}", INSIDERS, get("/projects/{w.project}")),
    C("POST", "/projects/{project_id}", MANAGERS,
      lambda w, app: {"url": f"/projects/{w.project}", "data": {"name": "Renamed", "status": "on_hold"}}),
    C("GET", "/projects/{project_id}/activity", INSIDERS, get("/projects/{w.project}/activity")),
    C("GET", "/projects/{project_id}/files-fragment", INSIDERS, get("/projects/{w.project}/files-fragment")),
    C("POST", "/projects/{project_id}/members", MANAGERS,
      lambda w, app: {"url": f"/projects/{w.project}/members",
                      "data": {"user_id": w.users["other_creative"], "role": "creative"}}),
    C("POST", "/projects/{project_id}/members/{user_id}/remove", MANAGERS,
      lambda w, app: {"url": f"/projects/{w.project}/members/{w.users['creative']}/remove", "data": {}}),
    C("POST", "/projects/{project_id}/files", STUDIO_INSIDERS,
      lambda w, app: {"url": f"/projects/{w.project}/files", "data": {"title": "Still", "kind": "image"}}),
    C("POST", "/files/{file_id}/versions", STUDIO_INSIDERS,
      lambda w, app: {"url": f"/files/{w.file}/versions", "data": {},
                      "files": {"upload": ("b.mp4", b"bytes", "video/mp4")}}),
    C("GET", "/files/{file_id}", INSIDERS, get("/files/{w.file}")),
    C("GET", "/versions/{version_id}/panel", INSIDERS, get("/versions/{w.version}/panel")),
    C("POST", "/versions/{version_id}/comments", INSIDERS,
      lambda w, app: {"url": f"/versions/{w.version}/comments", "data": {"body": "ok", "t_start": "0:05"}}),
    C("POST", "/versions/{version_id}/decision", REVIEWERS,
      lambda w, app: {"url": f"/versions/{w.version}/decision", "data": {"decision": "changes_requested"}}),
    C("POST", "/comments/{comment_id}/resolve", STUDIO_INSIDERS,
      lambda w, app: {"url": f"/comments/{w.internal_comment}/resolve", "data": {}}),
    C("GET", "/invoices", INVOICE_ROLES, get("/invoices")),
    C("POST", "/invoices", MANAGERS, lambda w, app: {"data": {"project_id": w.project}}),
    C("GET", "/invoices/{invoice_id}", MANAGERS, get("/invoices/{w.draft_invoice}"), "draft"),
    C("GET", "/invoices/{invoice_id}", REVIEWERS, get("/invoices/{w.sent_invoice}"), "sent"),
    C("GET", "/invoices/{invoice_id}/print", REVIEWERS, get("/invoices/{w.sent_invoice}/print")),
    C("POST", "/invoices/{invoice_id}/lines", MANAGERS,
      lambda w, app: {"url": f"/invoices/{w.draft_invoice}/lines",
                      "data": {"description": "Grade", "quantity": "1", "unit_price": "50"}}),
    C("POST", "/invoices/{invoice_id}/{step}", MANAGERS,
      lambda w, app: {"url": f"/invoices/{w.draft_invoice}/void", "data": {}}),
    C("GET", "/admin/users", ADMIN, get("/admin/users")),
    C("POST", "/admin/invitations", ADMIN,
      lambda w, app: {"data": {"email": "z@studio.test", "role": "creative"}}),
    C("POST", "/admin/users/{user_id}", ADMIN,
      lambda w, app: {"url": f"/admin/users/{w.users['other_creative']}", "data": {"is_active": "false"}}),
    C("POST", "/admin/orgs", ADMIN, lambda w, app: {"data": {"name": "Umbrella"}}),
    C("POST", "/admin/invitations/{invitation_id}/revoke", ADMIN,
      lambda w, app: {"url": f"/admin/invitations/{_project_invitation(app, w)}/revoke", "data": {}}),
    C("POST", "/admin/users/{user_id}/password-reset", ADMIN,
      lambda w, app: {"url": f"/admin/users/{w.users['other_creative']}/password-reset", "data": {}}),
    C("POST", "/admin/mail/{mail_id}/retry", ADMIN,
      lambda w, app: {"url": f"/admin/mail/{_queued_mail(app)}/retry", "data": {}}),
    C("POST", "/projects/{project_id}/invitations", MANAGERS,
      lambda w, app: {"url": f"/projects/{w.project}/invitations", "data": {"email": "c@acme.test"}}),
    C("POST", "/projects/{project_id}/invitations/{invitation_id}/revoke", MANAGERS,
      lambda w, app: {"url": f"/projects/{w.project}/invitations/{_project_invitation(app, w)}/revoke",
                      "data": {}}),
]  # fmt: skip


def _client(app, world: World, role: str) -> TestClient:
    client = TestClient(app, base_url=BASE, follow_redirects=False)
    if role == "anonymous":
        return client
    token, headers = session_for(app, world.users[role])
    client.cookies.set(cookie_name(app.state.settings), token)
    client.headers["X-CSRF-Token"] = headers["X-CSRF-Token"]
    return client


def _outcome(client: TestClient, case: Case, spec: Request) -> tuple[str, int]:
    spec = dict(spec)
    url = spec.pop("url", case.path)
    if spec.pop("stream", False):
        with client.stream(case.method, url) as response:
            status = response.status_code
    else:
        response = client.request(case.method, url, **spec)
        status = response.status_code
    assert status < 500, f"{case.method} {url}: {status}"
    location = response.headers.get("location", "") if status in (302, 303, 307) else ""
    denied = status in (401, 403, 404) or location.startswith("/sign-in?next=")
    return ("deny" if denied else "allow"), status


def test_every_route_is_in_the_table(app):
    declared = {(c.method, c.path) for c in CASES}
    routes = set()
    for route in iter_route_contexts(app.routes):
        for method in getattr(route, "methods", None) or {"GET"}:
            if method != "HEAD":
                routes.add((method, route.path))
    assert routes - declared == set(), "routes missing from the authorization table"
    assert declared - routes == set(), "table rows for routes that do not exist"


def test_every_route_for_every_role(app, engine):
    failures, checked = [], 0
    world = build_world(app)
    dirty = False  # the shared world was changed and must be rebuilt before reuse

    def fresh() -> World:
        truncate_all(engine)
        return build_world(app)

    for case in CASES:
        unsafe = case.method not in ("GET", "HEAD")
        # denied callers change nothing, so they share one world; a leak is reported and the
        # world rebuilt. Each allowed caller of an unsafe route gets a world of its own.
        order = sorted(ROLES, key=lambda r: r in case.allowed)
        for role in order:
            if dirty or (unsafe and role in case.allowed):
                world, dirty = fresh(), False
            spec = case.build(world, app)
            outcome, status = _outcome(_client(app, world, role), case, spec)
            expected = "allow" if role in case.allowed else "deny"
            checked += 1
            if outcome != expected:
                failures.append(
                    f"{case.method} {case.path} {case.label} as {role}: {status}, expected {expected}"
                )
            dirty = dirty or (unsafe and outcome == "allow")
    assert not failures, "\n".join(failures)
    assert checked == len(CASES) * len(ROLES)


@pytest.mark.parametrize("role", ["other_pm", "other_creative", "other_client"])
def test_outsiders_list_nothing_of_the_project(app, world, role):
    client = _client(app, world, role)
    assert client.get("/api/projects").json() == []
    if role != "other_creative":
        assert client.get("/api/invoices").json() == []
    page = client.get("/projects").text
    assert "Launch film" not in page


def test_clients_never_see_internal_comments_or_draft_invoices(app, world):
    client = _client(app, world, "client")
    bodies = [c["body"] for c in client.get(f"/api/versions/{world.version}/comments").json()]
    assert bodies == ["Love it"]
    assert "Fix grade" not in client.get(f"/files/{world.file}").text
    assert [i["id"] for i in client.get("/api/invoices").json()] == [world.sent_invoice]
    creative = _client(app, world, "creative")
    assert len(creative.get(f"/api/versions/{world.version}/comments").json()) == 2
