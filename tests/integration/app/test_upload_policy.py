"""One upload policy for the app and the file service (issue 15, finding 5): the app's small
upload route refuses what the file service refuses, records the kind the bytes show, and keeps
sizes and quotas; approval rules hold on the bytes /api/versions/{id}/content serves."""

from __future__ import annotations

import pytest
from app_support.client import make_app, signed_in
from app_support.world import build_world
from fastapi.testclient import TestClient

from app.files.policy import media_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
ZIP = b"PK\x03\x04" + b"\x00" * 40
REFUSED = {
    "application/javascript": b"alert(document.cookie)//",
    "text/html": b"<!doctype html><script>alert(1)</script>",
    "image/svg+xml": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
}


def _upload(client, world, data: bytes, claimed: str):
    return client.post(f"/api/files/{world.file}/versions", content=data,
                       headers={"Content-Type": claimed, "X-Filename": "x"})  # fmt: skip


@pytest.mark.parametrize("claimed", sorted(REFUSED))
def test_the_app_refuses_what_the_file_service_refuses(app, world, claimed):
    creative = signed_in(app, "creative@studio.test")
    before = sorted(app.state.storage.keys())
    for claim in (claimed, "image/png"):  # lying about the type does not help
        response = _upload(creative, world, REFUSED[claimed], claim)
        assert response.status_code == 415 and "not accepted" in response.json()["detail"]
    assert sorted(app.state.storage.keys()) == before, "a refused upload leaves no bytes"
    page = creative.post(f"/files/{world.file}/versions", data={"csrf_token": creative.headers["X-CSRF-Token"]},
                         files={"upload": ("a.svg", REFUSED[claimed], claimed)})  # fmt: skip
    assert page.status_code == 415
    with pytest.raises(Exception, match="not accepted"):  # the file service's check, same function
        media_type(app.state.settings, REFUSED[claimed])


def test_the_recorded_kind_is_what_the_bytes_show(app, world):
    creative = signed_in(app, "creative@studio.test")
    created = _upload(creative, world, PNG, "video/mp4")
    assert created.status_code == 201 and created.json()["content_type"] == "image/png"


def test_size_and_quota_limits_hold_for_the_app_route(engine, migrated_url, tmp_path):
    app = make_app(
        migrated_url, tmp_path, files_max_upload_bytes=100, files_project_quota_bytes=150
    )
    with TestClient(app):
        world = build_world(app)  # its one version is 64 bytes
        creative = signed_in(app, "creative@studio.test")
        assert _upload(creative, world, PNG + b"\x00" * 100, "image/png").status_code == 413
        assert _upload(creative, world, PNG + b"\x00" * 40, "image/png").status_code == 507
        assert _upload(creative, world, PNG, "image/png").status_code == 201


def test_clients_get_no_bytes_of_an_unapproved_download_only_version(app, world):
    creative, client = signed_in(app, "creative@studio.test"), signed_in(app, "client@studio.test")
    archive = _upload(creative, world, ZIP, "application/zip").json()["id"]
    image = _upload(creative, world, PNG, "image/png").json()["id"]
    assert creative.get(f"/api/versions/{archive}/content").content == ZIP
    assert client.get(f"/api/versions/{archive}/content").status_code == 404
    preview = client.get(f"/api/versions/{image}/content")  # reviewing needs the preview
    assert preview.status_code == 200 and preview.headers["content-disposition"] == "inline"
    decided = client.put(f"/api/versions/{archive}/decision", json={"decision": "approved"})
    assert decided.status_code == 200
    assert client.get(f"/api/versions/{archive}/content").content == ZIP
