"""The file page in a real browser (Debian's Chromium driven by Playwright) through the real
nginx in front of the app and the file service: a creative uploads a version with progress
shown, the connection drops mid-upload and the upload resumes from the server's offset, the
client previews it, approves it and downloads the original; a client of another organisation
gets 403 on the same download URL."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from app_support.browser import ARGS, CHROMIUM
from app_support.browser import sign_in as browser_sign_in
from app_support.client import PASSWORD
from app_support.files_stack import file_service, free_port, nginx
from app_support.server import serving
from playwright.sync_api import Page, expect, sync_playwright

from .conftest import make_env, prepare

# a 2x2 PNG; Chromium ignores what follows IEND, so the padded file still previews
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000208020000"
    "00fdd49a730000001649444154789c63f8cfc0f09f8181e13f030303"
    "0300135a03fd9ee4aef60000000049454e44ae426082"
)
CHUNK = 1024**2


@pytest.fixture
def site(tmp_path):
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Debian's chromium is missing: apt-get install chromium")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app, world = prepare(tmp_path)
    app.state.settings.cookie_secure = False
    app.state.settings.base_url = base
    env = make_env(tmp_path, EYESHOTS_COOKIE_SECURE="false")
    with serving(app) as app_url, file_service(env, tmp_path / "service.log") as service:
        with nginx(service.url.removeprefix("http://"), tmp_path / "files", tmp_path / "nginx",
                   app_upstream=app_url.removeprefix("http://"), port=port):  # fmt: skip
            yield app, world, base
    app.state.engine.dispose()


def sign_in(page: Page, base: str, email: str) -> None:
    browser_sign_in(page, base, email, PASSWORD)


def test_upload_resume_preview_download_and_403(site, tmp_path):
    app, world, base = site
    data = PNG + hashlib.shake_256(b"browser").digest(6 * CHUNK)
    source = tmp_path / "Grade pass ü.png"
    source.write_bytes(data)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)

        # the creative uploads; the third chunk's connection is cut
        creative = browser.new_context().new_page()
        sign_in(creative, base, world.emails["creative"])
        creative.goto(f"{base}/files/{world.file}")
        seen: list[tuple[str, str]] = []
        patches = 0

        def cut_third_patch(route) -> None:  # noqa: ANN001
            nonlocal patches
            request = route.request
            seen.append((request.method, request.headers.get("upload-offset", "")))
            if request.method == "PATCH":
                patches += 1
                if patches == 3:
                    route.abort("connectionreset")
                    return
            route.continue_()

        creative.route("**/transfer/tus/**", cut_third_patch)
        creative.locator("[data-tus]").evaluate(f"el => el.setAttribute('data-chunk', '{CHUNK}')")
        creative.set_input_files("#tus-file", str(source))
        creative.get_by_role("button", name="Start upload").click()
        expect(creative.locator("h1 .badge")).to_have_text("v2", timeout=30_000)
        # the cut PATCH was followed by HEAD (where is the server?) and the same offset again
        cut = [i for i, (m, _) in enumerate(seen) if m == "PATCH"][2]
        assert seen[cut + 1][0] == "HEAD" and seen[cut + 2] == ("PATCH", seen[cut][1])
        expect(creative.get_by_text("Grade pass ü.png")).to_be_visible()
        expect(creative.get_by_role("link", name="Download the original")).to_be_visible()

        # the client previews it, may not download before approving, then downloads it
        client = browser.new_context().new_page()
        sign_in(client, base, world.emails["client"])
        client.goto(f"{base}/files/{world.file}?v=2")
        image = client.locator(".viewer img")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth") == 2
        expect(client.get_by_role("link", name="Download the original")).to_have_count(0)
        client.get_by_role("button", name="Approve").click()
        client.goto(f"{base}/files/{world.file}?v=2")
        link = client.get_by_role("link", name="Download the original")
        with client.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == "Grade pass ü.png"
        assert open(download.value.path(), "rb").read() == data
        url = link.get_attribute("href")

        # a client of another organisation, signed in, on the same URL
        outsider = browser.new_context().new_page()
        sign_in(outsider, base, world.emails["other_client"])
        response = outsider.goto(base + url)
        assert response.status == 403
        browser.close()
