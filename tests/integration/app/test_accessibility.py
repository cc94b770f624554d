"""Every form control on every page has a label (explicit for=, or wrapping), every page has
one <main>, a language and a title: the checks a screen-reader user depends on first. Then in
Chromium: axe-core finds no serious or critical violation on any page, light or dark; at a
phone's 390 px nothing is wider than the screen (screenshots kept in the test's tmp dir), and
the phone navigation closes with its button, a tap beside it or Escape; dates show in the
reader's time zone."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from app_support.browser import ARGS, CHROMIUM, sign_in
from app_support.client import BASE, PASSWORD, make_app, signed_in
from app_support.server import free_port, serving
from app_support.world import build_world
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect, sync_playwright

from app.core.db import make_engine
from app.core.migrations import upgrade


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, dict[str, str]]] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.wrapped: set[int] = set()
        self.mains = 0
        self.lang = ""
        self.title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "title":
            self.title = True
        elif tag == "main":
            self.mains += 1
        elif tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            if self.open_labels:
                self.wrapped.add(len(self.controls))
            self.controls.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1

    def unlabelled(self) -> list[str]:
        return [
            f"<{tag} name={a.get('name')}>"
            for i, (tag, a) in enumerate(self.controls)
            if i not in self.wrapped
            and a.get("id") not in self.label_for
            and not a.get("aria-label")
        ]


PAGES = {
    "anonymous": ["/sign-in", "/forgot-password", "/reset-password?token=x"],
    "admin": ["/home", "/projects", "/projects/{w.project}", "/files/{w.file}", "/invoices",
              "/invoices/{w.draft_invoice}", "/admin/users", "/account"],
    "client": ["/home", "/files/{w.file}", "/invoices/{w.sent_invoice}"],
}  # fmt: skip


@pytest.mark.parametrize("role", list(PAGES))
def test_pages_are_labelled(app, world, role):
    client = (
        TestClient(app, base_url=BASE)
        if role == "anonymous"
        else signed_in(app, f"{role}@studio.test")
    )
    for template in PAGES[role]:
        path = template.format(w=world)
        response = client.get(path)
        assert response.status_code == 200, path
        audit = Audit()
        audit.feed(response.text)
        assert audit.unlabelled() == [], path
        assert audit.mains == 1 and audit.lang == "en" and audit.title, path


# --- in Chromium: axe-core on every page, in the light and the dark scheme, and a phone's width

AXE = Path(__file__).resolve().parents[2] / "app_support" / "vendor" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BROWSER_PAGES = {
    **PAGES,
    "admin": [*PAGES["admin"], "/invoices/{w.sent_invoice}/print"],
    "creative": ["/home", "/projects/{w.project}", "/files/{w.file}"],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            "Debian's chromium is missing: apt-get install chromium (tests/packages.d/app.txt)"
        )
    root = tmp_path_factory.mktemp("a11y")
    url = f"sqlite:///{root / 'eyeshots.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    application = make_app(url, root, cookie_secure=False, base_url=base)
    world = build_world(application)
    with serving(application, port):
        yield base, world
    application.state.engine.dispose()


def serious(page: Page) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_accessibility_violation_and_phone_layouts_fit(site, tmp_path):
    base, world = site
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for role, paths in BROWSER_PAGES.items():
            # axe is injected as an inline script, which the pages' CSP rightly refuses
            page = browser.new_context(viewport=DESKTOP, bypass_csp=True).new_page()
            if role != "anonymous":
                sign_in(page, base, world.emails[role], PASSWORD)
            for template in paths:
                path = template.format(w=world)
                page.set_viewport_size(DESKTOP)
                page.goto(base + path)
                # one load per page: the scheme and the width change in place
                for scheme in ("light", "dark"):
                    page.emulate_media(color_scheme=scheme)
                    problems += [f"{role} {path} {scheme}: {p}" for p in serious(page)]
                page.set_viewport_size(PHONE)
                page.emulate_media(color_scheme="light")
                # a phone layout scrolls down, never sideways
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    problems.append(f"{role} {path}: {width} px wide at {PHONE['width']} px")
                name = f"{role}{path}".replace("/", "_").replace("?", "_")
                page.screenshot(path=tmp_path / f"{name}.png", full_page=True)
            page.context.close()
        browser.close()
    assert problems == [], "\n".join(problems)


def test_phone_navigation_opens_and_closes(site):
    base, world = site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_context(viewport=PHONE, timezone_id="Asia/Tokyo").new_page()
        sign_in(page, base, world.emails["pm"], PASSWORD)
        # dates in the reader's own time zone, the UTC original on hover
        page.goto(f"{base}/projects/{world.project}")
        when = page.locator("time").first
        expect(when).to_contain_text("GMT+9")
        assert when.get_attribute("title").endswith("UTC")
        nav = page.get_by_role("complementary", name="Main navigation")
        menu = page.get_by_role("button", name="Open navigation")
        expect(nav).to_be_hidden()
        menu.click()
        expect(nav).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Escape")
        expect(nav).to_be_hidden()
        expect(menu).to_be_focused()
        menu.click()
        page.mouse.click(380, 600)  # beside the panel
        expect(nav).to_be_hidden()
        menu.click()
        page.get_by_role("button", name="Close navigation").click()
        expect(nav).to_be_hidden()
        browser.close()
