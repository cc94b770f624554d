"""Invitations (issue 15, finding 2 and the Users page): a PM invites clients only into the
organisation of a project they manage; an invitation names the organisation and the projects it
grants; admins and PMs see and revoke pending ones; the invite form redirects after POST."""

from __future__ import annotations

import re

from app_support.client import BASE, PASSWORD, queued_mail, signed_in
from fastapi.testclient import TestClient


def test_a_pm_cannot_invite_himself_into_another_organisation(app, world):
    """The reported attack: a PM not on organisation B's project invites a client into B."""
    pm = signed_in(app, "other_pm@studio.test")  # manages no project at all
    attack = pm.post("/api/auth/invitations",
                     json={"email": "me@evil.test", "role": "client", "client_org_id": world.org})  # fmt: skip
    assert attack.status_code == 403 and "accept_url" not in attack.text
    own_pm = signed_in(app, "pm@studio.test")  # manages a project of world.org, none of other_org
    assert own_pm.post("/api/auth/invitations", json={"email": "x@globex.test", "role": "client",
                       "client_org_id": world.other_org}).status_code == 403  # fmt: skip
    by_project = own_pm.post("/api/auth/invitations",
                             json={"email": "y@acme.test", "role": "client", "project_id": world.project})  # fmt: skip
    assert by_project.status_code == 201, by_project.text
    body = by_project.json()
    assert body["client_org_id"] == world.org and body["organisation"] == "Acme"
    assert body["projects"] == ["Launch film"] and body["project_id"] == world.project
    assert queued_mail(app, "y@acme.test"), "the invitation mail is queued"


def test_invitation_page_and_mail_name_the_organisation_and_projects(app, world):
    admin = signed_in(app, "admin@studio.test")
    url = admin.post("/api/auth/invitations", json={"email": "c@acme.test", "role": "client",
                     "client_org_id": world.org}).json()["accept_url"]  # fmt: skip
    page = TestClient(app, base_url=BASE).get(url.replace(BASE, ""))
    assert page.status_code == 200 and "Acme" in page.text
    assert re.search(r'id="granted-projects">\s*<li>Launch film</li>', page.text)
    assert page.headers["referrer-policy"] == "no-referrer"
    (mail,) = queued_mail(app, "c@acme.test")
    for body in (mail.text_body, mail.html_body):
        assert "Acme" in body and "Launch film" in body
    assert url in mail.text_body and url.replace("&", "&amp;") in mail.html_body


def test_pending_invitations_are_listed_and_revoked_by_admin_and_pm(app, world):
    pm = signed_in(app, "pm@studio.test")
    created = pm.post("/api/auth/invitations", json={"email": "p@acme.test", "role": "client",
                      "project_id": world.project}).json()  # fmt: skip
    admin = signed_in(app, "admin@studio.test")
    staff = admin.post("/api/auth/invitations", json={"email": "s@studio.test", "role": "creative"})
    assert [i["email"] for i in pm.get("/api/auth/invitations").json()] == ["p@acme.test"]
    assert {i["email"] for i in admin.get("/api/auth/invitations").json()} == {
        "p@acme.test",
        "s@studio.test",
    }
    assert signed_in(app, "creative@studio.test").get("/api/auth/invitations").status_code == 403
    # the PM cannot revoke what is not theirs
    assert pm.delete(f"/api/auth/invitations/{staff.json()['id']}").status_code == 404
    # on the project page, from the UI
    page = pm.get(f"/projects/{world.project}")
    assert "p@acme.test" in page.text
    revoke = pm.post(f"/projects/{world.project}/invitations/{created['id']}/revoke",
                     data={"csrf_token": pm.headers["X-CSRF-Token"]}, follow_redirects=False)  # fmt: skip
    assert revoke.status_code == 303
    after = pm.get(revoke.headers["location"])
    assert "Invitation for p@acme.test revoked" in after.text
    assert pm.get("/api/auth/invitations").json() == []
    dead = TestClient(app, base_url=BASE).get(created["accept_url"].replace(BASE, ""))
    assert dead.status_code == 404
    # the admin revokes from the Users page
    users = admin.get("/admin/users").text
    assert "s@studio.test" in users and f"/admin/invitations/{staff.json()['id']}/revoke" in users
    assert admin.post(f"/admin/invitations/{staff.json()['id']}/revoke",
                      data={"csrf_token": admin.headers["X-CSRF-Token"]}).status_code == 200  # fmt: skip
    assert admin.get("/api/auth/invitations").json() == []


def test_pm_invites_a_client_from_the_project_page(app, world):
    pm = signed_in(app, "pm@studio.test")
    response = pm.post(f"/projects/{world.project}/invitations",
                       data={"email": "new@acme.test", "csrf_token": pm.headers["X-CSRF-Token"]},
                       follow_redirects=False)  # fmt: skip
    assert (
        response.status_code == 303 and response.headers["location"] == f"/projects/{world.project}"
    )
    page = pm.get(response.headers["location"]).text
    link = re.search(r'id="invite-link" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    accepted = TestClient(app, base_url=BASE).post("/invite", data={
        "token": link.split("token=")[1], "name": "Nat", "password": PASSWORD}, follow_redirects=False)  # fmt: skip
    assert accepted.status_code == 303
    assert signed_in(app, "new@acme.test").get("/api/auth/me").json()["client_org_id"] == world.org


def test_users_page_invite_form_has_no_default_role_and_redirects_after_post(app, world):
    admin = signed_in(app, "admin@studio.test")
    page = admin.get("/admin/users").text
    select = re.search(r'<select id="role" name="role" required>(.*?)</select>', page, re.S).group(
        1
    )
    assert re.search(r'<option value="" selected disabled>', select)
    assert 'value="admin" selected' not in select
    csrf = admin.headers["X-CSRF-Token"]
    posted = admin.post("/admin/invitations", data={"email": "n@studio.test", "role": "creative",
                        "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303 and posted.headers["location"] == "/admin/users"
    shown = admin.get("/admin/users").text
    assert 'id="invite-link"' in shown and "n@studio.test" in shown
    reload = admin.get(
        "/admin/users"
    ).text  # a reload re-submits nothing and shows the link no more
    assert 'id="invite-link"' not in reload
    assert len(queued_mail(app, "n@studio.test")) == 1
    no_role = admin.post(
        "/admin/invitations", data={"email": "m@studio.test", "role": "", "csrf_token": csrf}
    )
    assert no_role.status_code == 422 and not queued_mail(app, "m@studio.test")
