"""One-time tokens (reset, invitation) never reach an access log (issue 15, finding 5): the
app's own access log records paths without query strings, the links carry tokens only in the
query, the token pages send no Referer, and nginx's `main` format (roles/nginx) logs `$uri`."""

from __future__ import annotations

import logging

import httpx
from app_support.client import BASE, signed_in
from app_support.files_stack import nginx
from app_support.server import free_port, serving
from fastapi.testclient import TestClient

from app.cli import _log_config


def test_the_app_access_log_has_no_tokens(app, world, caplog):
    admin = signed_in(app, "admin@studio.test")
    invite = admin.post(
        "/api/auth/invitations", json={"email": "n@studio.test", "role": "creative"}
    )
    url = invite.json()["accept_url"].replace(BASE, "")
    token = url.split("token=", 1)[1]
    anonymous = TestClient(app, base_url=BASE)
    with caplog.at_level(logging.INFO, logger="eyeshots.access"):
        page = anonymous.get(url)
        reset = anonymous.get(f"/reset-password?token={token}")
    assert page.status_code == reset.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "eyeshots.access"]
    assert any('"GET /invite" 200' in line for line in lines), lines
    assert not any(token in line for line in lines)
    assert page.headers["referrer-policy"] == reset.headers["referrer-policy"] == "no-referrer"
    # `eyeshots app serve` turns uvicorn's access log (query strings) off and shows the app's
    assert "eyeshots" in _log_config()["loggers"]


def test_nginx_logs_no_tokens(app, world, tmp_path):
    token = "T0kenThatMustNotBeLogged"
    with serving(app) as app_url, nginx(f"127.0.0.1:{free_port()}", tmp_path / "files", tmp_path / "nginx",
                                        app_upstream=app_url.removeprefix("http://")) as proxy:  # fmt: skip
        for path in (f"/invite?token={token}", f"/reset-password?token={token}"):
            assert httpx.get(proxy.url + path).status_code in (200, 404)
        log = proxy.access_log.read_text()
    assert "/invite" in log and "/reset-password" in log and token not in log
