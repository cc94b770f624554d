"""Pages render for each role, bad input gets 413/422 with field messages, operations endpoints."""

from __future__ import annotations

from app_support.client import BASE, signed_in
from fastapi.testclient import TestClient


def test_dashboard_shows_my_projects_reviews_and_overdue_invoices(app, world):
    client = signed_in(app, "client@studio.test")
    page = client.get("/home")
    assert page.status_code == 200
    assert "Launch film" in page.text and "Teaser v1" in page.text  # awaiting the client's review
    assert "/static/htmx.min.js" in page.text and "hx-headers" in page.text


def test_project_file_and_invoice_pages_render(app, world):
    pm = signed_in(app, "pm@studio.test")
    project = pm.get(f"/projects/{world.project}")
    assert project.status_code == 200 and "Teaser" in project.text and "data-live" in project.text
    file = pm.get(f"/files/{world.file}")
    assert file.status_code == 200 and "Fix grade" in file.text and "00:00:12.500" in file.text
    invoice = pm.get(f"/invoices/{world.sent_invoice}")
    assert "240.00 EUR" in invoice.text  # 2 x 100 + 20 % tax, computed
    printable = pm.get(f"/invoices/{world.sent_invoice}/print")
    assert printable.status_code == 200 and "<aside" not in printable.text


def test_comment_form_errors_are_shown_inline(app, world):
    client = signed_in(app, "client@studio.test")
    token = client.headers["X-CSRF-Token"]
    bad = client.post(f"/versions/{world.version}/comments",
                      data={"body": "x", "t_start": "ten", "csrf_token": token})  # fmt: skip
    assert bad.status_code == 422
    assert "Use a time code like 1:23" in bad.text and 'role="alert"' in bad.text
    ok = client.post(f"/versions/{world.version}/comments",
                     data={"body": "at 1:05", "t_start": "1:05", "region_x": "0.5", "region_y": "0.25",
                           "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    comments = client.get(f"/api/versions/{world.version}/comments").json()
    assert comments[-1]["t_start"] == 65 and comments[-1]["region_x"] == 0.5


def test_api_validation_errors_name_the_field(app, world):
    client = signed_in(app, "pm@studio.test")
    response = client.post(f"/api/versions/{world.version}/comments",
                           json={"body": "", "t_start": 5, "t_end": 1})  # fmt: skip
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["detail"]}
    assert "body" in fields


def test_oversize_bodies_get_413(app, world):
    client = signed_in(app, "creative@studio.test")
    too_big = b"x" * (app.state.settings.max_body_bytes + 1)
    response = client.post(f"/api/files/{world.file}/versions", content=too_big,
                           headers={"Content-Type": "video/mp4"})  # fmt: skip
    assert response.status_code == 413


def test_uploaded_version_is_stored_by_hash_and_served_back(app, world):
    import hashlib

    client = signed_in(app, "creative@studio.test")
    data = b"\x89PNG\r\n\x1a\n fake image bytes"
    created = client.post(f"/api/files/{world.file}/versions", content=data,
                          headers={"Content-Type": "image/png", "X-Filename": "../../etc/passwd"})  # fmt: skip
    assert created.status_code == 201
    version = created.json()
    assert version["number"] == 2 and version["sha256"] == hashlib.sha256(data).hexdigest()
    assert version["original_name"] == ".._.._etc_passwd"
    served = client.get(f"/api/versions/{version['id']}/content")
    assert served.content == data and served.headers["x-content-type-options"] == "nosniff"


def test_unknown_ids_are_404_for_everyone(app, world):
    admin = signed_in(app, "admin@studio.test")
    assert admin.get("/api/projects/999999").status_code == 404
    assert admin.get("/files/999999").status_code == 404


def test_health_readiness_and_metrics(app, world):
    client = TestClient(app, base_url=BASE)
    assert client.get("/healthz").text == "ok\n"
    assert client.get("/readyz").status_code == 200
    client.get(f"/api/projects/{world.project}")
    metrics = client.get("/metrics").text
    assert (
        'eyeshots_http_requests_total{method="GET",route="/api/projects/{project_id}",status="401"} 1.0'
        in metrics
    )
    assert "eyeshots_http_request_duration_seconds_bucket" in metrics


def test_readyz_fails_when_the_database_is_unreachable(app, world, tmp_path):
    from app.core.db import make_engine

    url = app.state.engine.url
    if url.get_backend_name() == "sqlite":
        broken = f"sqlite:///{tmp_path}"  # a directory cannot be opened as a database
    else:
        broken = url.set(port=1).render_as_string(hide_password=False)  # nothing listens there
    app.state.engine = make_engine(broken)
    response = TestClient(app, base_url=BASE).get("/readyz")
    assert response.status_code == 503 and "database unreachable" in response.text
    assert TestClient(app, base_url=BASE).get("/healthz").status_code == 200


def test_openapi_is_published(app):
    spec = TestClient(app, base_url=BASE).get("/api/openapi.json").json()
    assert "/api/projects/{project_id}" in spec["paths"]
    assert "/home" not in spec["paths"]


def test_forms_carry_the_sessions_csrf_token(app, world):
    import re

    client = signed_in(app, "admin@studio.test")
    expected = client.headers.pop("X-CSRF-Token")
    page = client.get("/admin/users").text
    tokens = set(re.findall(r'name="csrf_token" value="([^"]*)"', page))
    assert tokens == {expected}
    posted = client.post("/admin/orgs", data={"name": "Soylent", "csrf_token": tokens.pop()},
                         follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303


def test_pages_carry_security_headers(app, world):
    client = signed_in(app, "pm@studio.test")
    page = client.get("/home")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    content = client.get(f"/api/versions/{world.version}/content")
    assert "sandbox" in content.headers["content-security-policy"]  # its own, stricter policy


def test_replies_thread_under_their_comment_and_inherit_internal(app, world):
    creative = signed_in(app, "creative@studio.test")
    token = creative.headers["X-CSRF-Token"]
    for parent, body in ((world.public_comment, "on it"), (world.internal_comment, "graded")):
        posted = creative.post(f"/versions/{world.version}/comments",
                               data={"body": body, "parent_id": parent, "csrf_token": token},
                               follow_redirects=False)  # fmt: skip
        assert posted.status_code == 303
    comments = {
        c["body"]: c for c in creative.get(f"/api/versions/{world.version}/comments").json()
    }
    assert comments["graded"]["visibility"] == "internal"
    page = creative.get(f"/files/{world.file}").text
    assert (
        page.index("Love it") < page.index("on it") < page.index("Fix grade") < page.index("graded")
    )
    client = signed_in(app, "client@studio.test")
    text = client.get(f"/versions/{world.version}/panel").text
    assert "on it" in text and "graded" not in text
    hidden_parent = client.post(f"/api/versions/{world.version}/comments",
                                json={"body": "sneaky", "parent_id": world.internal_comment})  # fmt: skip
    assert hidden_parent.status_code == 422 and hidden_parent.json()["field"] == "parent_id"


def test_manager_edits_the_project_and_admin_changes_a_role(app, world):
    pm = signed_in(app, "pm@studio.test")
    token = pm.headers["X-CSRF-Token"]
    bad = pm.post(f"/projects/{world.project}", data={"name": "X", "status": "on_hold",
                                                     "due_date": "31/12", "csrf_token": token})  # fmt: skip
    assert bad.status_code == 422 and "Use a date like" in bad.text
    ok = pm.post(f"/projects/{world.project}", data={"name": "Launch film II", "status": "on_hold",
                                                    "due_date": "2027-01-31", "csrf_token": token},
                 follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    project = pm.get(f"/api/projects/{world.project}").json()
    assert (project["name"], project["status"], project["due_date"]) == (
        "Launch film II",
        "on_hold",
        "2027-01-31",
    )
    admin = signed_in(app, "admin@studio.test")
    changed = admin.post(f"/admin/users/{world.users['other_creative']}",
                         data={"role": "project_manager", "csrf_token": admin.headers["X-CSRF-Token"]},
                         follow_redirects=False)  # fmt: skip
    assert changed.status_code == 303
    assert "Change role" in admin.get("/admin/users").text


def test_activity_shows_who_did_what_and_hides_studio_only_events_from_clients(app, world):
    studio = signed_in(app, "pm@studio.test").get(f"/projects/{world.project}/activity").text
    assert "Creative</strong> uploaded a new version" in studio
    assert "Pm</strong> drafted an invoice" in studio  # internal: an invoice draft
    client = signed_in(app, "client@studio.test").get(f"/projects/{world.project}/activity").text
    assert "uploaded a new version" in client and "drafted an invoice" not in client
    assert client.count("commented") == 1  # the internal comment is not even mentioned


def test_previews_answer_range_requests(app, world):
    client = signed_in(app, "client@studio.test")
    whole = client.get(f"/api/versions/{world.version}/content")
    part = client.get(f"/api/versions/{world.version}/content", headers={"Range": "bytes=4-9"})
    assert part.status_code == 206 and part.content == whole.content[4:10]
    assert part.headers["content-range"] == f"bytes 4-9/{len(whole.content)}"


def test_the_only_manager_cannot_leave_his_project(app, world):
    pm = signed_in(app, "pm@studio.test")
    token = pm.headers["X-CSRF-Token"]
    remove = f"/projects/{world.project}/members/{{}}/remove"
    # the admin made the project, so there are two managers until the PM removes the admin
    assert pm.post(remove.format(world.users["admin"]), data={"csrf_token": token},
                   follow_redirects=False).status_code == 303  # fmt: skip
    refused = pm.post(remove.format(world.users["pm"]), data={"csrf_token": token})
    assert refused.status_code == 409 and "only manager" in refused.text
    assert pm.get(f"/projects/{world.project}").status_code == 200


def test_creatives_have_nothing_to_approve_on_their_dashboard(app, world):
    creative = signed_in(app, "creative@studio.test").get("/home")
    assert creative.status_code == 200 and "Awaiting my review" not in creative.text
    assert "Awaiting my review" in signed_in(app, "pm@studio.test").get("/home").text


def test_favicon(app):
    icon = TestClient(app, base_url=BASE).get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_paid_invoice_keeps_no_empty_action_card(app, world):
    pm = signed_in(app, "pm@studio.test")
    paid = pm.post(f"/invoices/{world.sent_invoice}/pay",
                   data={"csrf_token": pm.headers["X-CSRF-Token"]})  # fmt: skip
    assert paid.status_code == 200 and "paid" in paid.text
    assert 'class="card noprint"' not in paid.text


def test_file_list_shows_each_latest_versions_review_status(app, world):
    pm = signed_in(app, "pm@studio.test")
    assert (
        '<span class="badge in_review">in review</span>'
        in pm.get(f"/projects/{world.project}").text
    )
    client = signed_in(app, "client@studio.test")
    decided = client.post(f"/versions/{world.version}/decision",
                          data={"decision": "approved", "csrf_token": client.headers["X-CSRF-Token"]},
                          follow_redirects=False)  # fmt: skip
    assert decided.status_code == 303
    assert (
        '<span class="badge approved">approved</span>' in pm.get(f"/projects/{world.project}").text
    )
