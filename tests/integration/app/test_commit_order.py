"""A response is sent only after its transaction committed: the next request sees the write."""

from __future__ import annotations

import httpx
from app_support.client import make_app
from app_support.server import serving
from app_support.world import build_world


def test_a_session_cookie_works_on_the_very_next_request(engine, migrated_url, tmp_path):
    app = make_app(migrated_url, tmp_path, cookie_secure=False)
    with serving(app) as base:
        build_world(app)
        for _ in range(20):
            with httpx.Client(base_url=base) as client:
                login = client.post("/api/auth/login",
                                    json={"email": "pm@studio.test", "password": "correct horse battery"})  # fmt: skip
                assert login.status_code == 200
                assert client.get("/api/auth/me").status_code == 200
