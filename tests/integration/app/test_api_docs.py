"""API docs from vendored Swagger UI under the site's own CSP (issue 15, finding 5): Chromium
renders the operations and makes no request outside the site, and nothing violates the CSP."""

from __future__ import annotations

import shutil

import pytest
from app_support.browser import ARGS, CHROMIUM
from app_support.client import make_app
from app_support.server import free_port, serving
from playwright.sync_api import expect, sync_playwright

from app.core.headers import CSP


def test_api_docs_render_from_vendored_assets_under_the_csp(engine, migrated_url, tmp_path):
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            "Debian's chromium is missing: apt-get install chromium (tests/packages.d/app.txt)"
        )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(migrated_url, tmp_path, cookie_secure=False, base_url=base)
    with serving(app, port), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        requests, problems = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        response = page.goto(f"{base}/api/docs")
        assert response.headers["content-security-policy"] == CSP
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Eye Shots")
        expect(
            page.locator(".opblock-summary-path", has_text="/api/auth/login").first
        ).to_be_visible()
        browser.close()
    assert requests and all(url.startswith(base) for url in requests), requests
    assert not [p for p in problems if "Content Security Policy" in p], problems
