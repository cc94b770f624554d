"""The studio's day in a real browser (Debian's Chromium, headless, driven by Playwright):
an admin invites a client and a creative, a PM creates a project, a version exists on a file,
the client comments with a time code and approves, the PM sees it live, an invoice is sent and
the client sees it."""

from __future__ import annotations

import re
import shutil

import pytest
from app_support.browser import ARGS, CHROMIUM
from app_support.browser import sign_in as browser_sign_in
from app_support.client import make_app
from app_support.server import free_port, serving
from playwright.sync_api import Page, expect, sync_playwright

from app.assets import service as assets
from app.auth.service import create_admin
from app.models import FileKind, Project, User

PASSWORD = "browser test password"
# a 2x2 PNG: the viewer shows a real image
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000208020000"
    "00fdd49a730000001649444154789c63f8cfc0f09f8181e13f030303"
    "0300135a03fd9ee4aef60000000049454e44ae426082"
)


@pytest.fixture
def site(engine, migrated_url, tmp_path):
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            "Debian's chromium is missing: apt-get install chromium (tests/packages.d/app.txt)"
        )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(migrated_url, tmp_path, cookie_secure=False, base_url=base)
    with app.state.sessionmaker.begin() as db:
        create_admin(db, app.state.auth, "admin@studio.test", "Ada Admin", PASSWORD)
    with serving(app, port):
        yield app, base


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


def sign_in(page: Page, base: str, email: str) -> None:
    browser_sign_in(page, base, email, PASSWORD)


def invite(page: Page, email: str, role: str, org: str | None = None) -> str:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option(label=role)
    if org:
        page.get_by_label("Client organisation (clients only)").select_option(label=org)
    page.get_by_role("button", name="Create invitation").click()
    return page.locator("#invite-link").get_attribute("href")


def accept(page: Page, link: str, name: str) -> None:
    page.goto(link)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="My projects")).to_be_visible()


def test_studio_day(site, browser):
    app, base = site
    admin = browser.new_context().new_page()
    admin.set_default_timeout(8000)
    sign_in(admin, base, "admin@studio.test")
    admin.get_by_role("link", name="Users").click()
    admin.get_by_label("New organisation").fill("Acme Films")
    admin.get_by_role("button", name="Add organisation").click()
    client_link = invite(admin, "clara@acme.test", "Client", "Acme Films")
    creative_link = invite(admin, "cole@studio.test", "Creative")
    pm_link = invite(admin, "pia@studio.test", "Project Manager")

    client = browser.new_context().new_page()
    accept(client, client_link, "Clara Client")
    creative = browser.new_context().new_page()
    accept(creative, creative_link, "Cole Creative")
    pm = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # a phone
    accept(pm, pm_link, "Pia Manager")

    # the PM creates the project and brings the creative in
    pm.goto(f"{base}/projects")
    pm.get_by_label("Name").fill("Launch film")
    pm.get_by_label("Client").select_option(label="Acme Films")
    pm.get_by_role("button", name="Create project").click()
    expect(pm.get_by_role("heading", name="Launch film")).to_be_visible()
    pm.get_by_label("Add studio member").select_option(label="Cole Creative (Creative)")
    pm.get_by_label("Role in project").select_option("creative")
    pm.get_by_role("button", name="Add to team").click()
    expect(pm.get_by_role("listitem").filter(has_text="Cole Creative")).to_be_visible()

    # a version exists on a file: created through the storage interface (the file service
    # of the next issue will take uploads); the creative is its author
    with app.state.sessionmaker.begin() as db:
        project = db.query(Project).filter_by(name="Launch film").one()
        author = db.query(User).filter_by(email="cole@studio.test").one()
        file = assets.create_file(db, author, project, "Teaser", FileKind.IMAGE)
        assets.add_version(
            db,
            app.state.storage,
            author,
            file,
            project,
            [PNG],
            "image/png",
            "teaser.png",
            settings=app.state.settings,
        )
        file_id = file.id

    # the PM watches the file page; the client reviews the same file
    pm.goto(f"{base}/files/{file_id}")
    expect(pm.locator("#review-panel")).to_contain_text("No comments yet")
    client.goto(f"{base}/home")
    client.get_by_role("link", name="Teaser v1").click()
    expect(client.locator(".viewer img")).to_be_visible()
    client.get_by_label("Comment", exact=True).fill("Logo two frames late here")
    client.get_by_label("Time code (e.g. 1:23.5)").fill("0:12.5")
    client.get_by_role("button", name="Post comment").click()
    expect(client.locator("#comments")).to_contain_text("Logo two frames late here")
    client.get_by_role("button", name="Approve").click()
    expect(client.locator("#decisions")).to_contain_text("approved")

    # live: no reload on the PM's page
    expect(pm.locator("#comments")).to_contain_text("Logo two frames late here", timeout=10_000)
    expect(pm.locator("#comments")).to_contain_text("00:00:12.500")
    expect(pm.locator("#decisions")).to_contain_text("Clara Client: approved", timeout=10_000)

    # the PM invoices, the client sees it once sent (and not before)
    pm.goto(f"{base}/invoices")
    pm.get_by_label("Project").select_option(label="Launch film")
    pm.get_by_label("Tax rate (%)").fill("19")
    pm.get_by_role("button", name="Create draft").click()
    number = re.search(r"Invoice (\S+)", pm.locator("h1").inner_text()).group(1)
    pm.get_by_label("Description").fill("Teaser edit")
    pm.get_by_label("Quantity").fill("2")
    pm.get_by_label("Unit price").fill("450")
    pm.get_by_role("button", name="Add line").click()
    expect(pm.locator("#invoice-total")).to_have_text("1,071.00 EUR")
    client.goto(f"{base}/invoices")
    expect(client.get_by_text(number)).to_have_count(0)
    pm.get_by_role("button", name="Send to client").click()
    expect(pm.locator("h1")).to_contain_text("sent")
    client.goto(f"{base}/invoices")
    client.get_by_role("link", name=number).click()
    expect(client.locator("#invoice-total")).to_have_text("1,071.00 EUR")

    # and the creative, who is on the project, has no invoices at all
    creative.goto(f"{base}/invoices")
    expect(creative.get_by_role("heading", name="Access denied")).to_be_visible()
