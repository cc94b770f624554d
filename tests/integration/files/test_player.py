"""The review player in Debian's Chromium, through the real nginx and file service.

A picture: a pin clicked and a box drawn with the keyboard are stored in the picture's own
coordinates and drawn on the same spot of the picture at three window sizes; a click on the
letterbox bars is refused. A video: it plays from the file service with Range (seekable to the
end at once), frame stepping shows SMPTE time code at the frame rate ffprobe found, a comment
on a paused frame gets its time code and pin, a marker on the timeline, and a click on its
time code goes back to that frame.
"""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction

import pytest
from app_support.browser import ARGS, CHROMIUM
from playwright.sync_api import Page, expect, sync_playwright

from app.assets import service as assets
from app.models import Comment, File, FileKind, Project, User
from app.reviews.timecode import smpte

from .test_browser import sign_in, site  # noqa: F401  (the same stack: nginx, app, file service)

SIZES = [(1280, 800), (1280, 1400), (390, 844)]


@pytest.fixture(scope="module")
def ffmpeg() -> str:
    binary = shutil.which("ffmpeg")
    if binary is None:
        pytest.fail("Debian's ffmpeg is missing: apt-get install ffmpeg (tests/packages.d/app.txt)")
    return binary


def make(ffmpeg: str, path, source: str, *args: str) -> bytes:  # noqa: ANN001
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", source, *args, str(path)],
                   check=True)  # fmt: skip
    return path.read_bytes()


def add_file(app, world, title: str, kind: FileKind, data: bytes, content_type: str) -> int:  # noqa: ANN001
    with app.state.sessionmaker.begin() as db:
        project = db.get(Project, world.project)
        creative = db.get(User, world.users["creative"])
        file = assets.create_file(db, creative, project, title, kind)
        assets.add_version(db, app.state.storage, creative, file, project, [data], content_type,
                           f"{title}.bin", settings=app.state.settings)  # fmt: skip
        return file.id


def picture_box(page: Page) -> dict[str, float]:
    """Where the picture itself is drawn inside the letterboxed <img> (object-fit: contain)."""
    return page.locator("[data-media]").evaluate("""img => {
        const r = img.getBoundingClientRect(), s = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);
        const w = img.naturalWidth * s, h = img.naturalHeight * s;
        return {x: r.left + (r.width - w) / 2, y: r.top + (r.height - h) / 2, width: w, height: h};
    }""")


def centre(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def comments(app, file_id: int) -> list[Comment]:  # noqa: ANN001
    with app.state.sessionmaker() as db:
        version = assets.versions_of(db, file_id)[-1]
        return list(db.query(Comment).filter_by(version_id=version.id).order_by(Comment.id))


def test_marks_stay_on_the_picture_at_every_window_size(site, ffmpeg, tmp_path):  # noqa: F811
    app, world, base = site
    # a portrait picture: wide windows letterbox it left and right, tall ones above and below
    png = make(ffmpeg, tmp_path / "portrait.png", "testsrc=size=60x120", "-frames:v", "1")
    file_id = add_file(app, world, "Poster", FileKind.IMAGE, png, "image/png")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        sign_in(page, base, world.emails["client"])
        page.goto(f"{base}/files/{file_id}")
        expect(page.locator("[data-overlay]")).to_be_visible()
        picture = picture_box(page)

        # the black bar left of the picture is not the picture
        page.mouse.click(picture["x"] - 30, picture["y"] + picture["height"] / 2)
        expect(page.locator("[data-annotate-status]")).to_contain_text("outside the picture")
        assert page.locator("input[name=region_x]").input_value() == ""

        # a pin a quarter across and 40 % down the picture
        page.mouse.click(
            picture["x"] + 0.25 * picture["width"], picture["y"] + 0.4 * picture["height"]
        )
        expect(page.locator("[data-annotate-status]")).to_contain_text(
            "Pin at 25 % across, 40 % down"
        )
        page.get_by_label("Comment", exact=True).fill("Logo too close to the edge")
        page.get_by_role("button", name="Post comment").click()
        expect(page.locator("#comments")).to_contain_text("Logo too close")

        # a box with the keyboard only: focus the picture, place, move, size
        page.locator("[data-overlay]").focus()
        page.keyboard.press("Enter")
        for key in (
            ["ArrowLeft"] * 20
            + ["ArrowUp"] * 30
            + ["Shift+ArrowRight"] * 40
            + ["Shift+ArrowDown"] * 20
        ):
            page.keyboard.press(key)
        expect(page.locator("[data-annotate-status]")).to_contain_text(
            "Box from 30 % across, 20 % down, 40 % wide, 20 % high"
        )
        page.get_by_label("Comment", exact=True).fill("Title block here")
        page.get_by_role("button", name="Post comment").click()
        expect(page.locator("#comments")).to_contain_text("Title block here")

        pin, box = comments(app, file_id)
        assert (pin.region_x, pin.region_y, pin.region_w) == (
            pytest.approx(0.25, abs=0.01),
            pytest.approx(0.4, abs=0.01),
            None,
        )
        assert (box.region_x, box.region_y, box.region_w, box.region_h) == pytest.approx(
            (0.3, 0.2, 0.4, 0.2), abs=1e-6
        )

        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{base}/files/{file_id}")
            expect(page.locator(".mark.pin")).to_have_count(1)
            picture = picture_box(page)
            x, y = centre(page, ".mark.pin")
            assert x == pytest.approx(picture["x"] + pin.region_x * picture["width"], abs=1.5), (
                width,
                height,
            )
            assert y == pytest.approx(picture["y"] + pin.region_y * picture["height"], abs=1.5), (
                width,
                height,
            )
            drawn = page.locator(".mark.box").bounding_box()
            assert drawn["x"] == pytest.approx(picture["x"] + 0.3 * picture["width"], abs=1.5)
            assert drawn["y"] == pytest.approx(picture["y"] + 0.2 * picture["height"], abs=1.5)
            assert drawn["width"] == pytest.approx(0.4 * picture["width"], abs=1.5)
            assert drawn["height"] == pytest.approx(0.2 * picture["height"], abs=1.5)
        browser.close()


def test_video_frames_time_code_and_comment_markers(site, ffmpeg, tmp_path):  # noqa: F811
    app, world, base = site
    webm = make(ffmpeg, tmp_path / "cut.webm", "testsrc=size=320x180:rate=25", "-t", "4",
                "-c:v", "libvpx", "-b:v", "300k", "-g", "25")  # fmt: skip
    file_id = add_file(app, world, "Cut", FileKind.VIDEO, webm, "video/webm")
    with app.state.sessionmaker() as db:
        assert assets.versions_of(db, file_id)[-1].frame_rate == Fraction(25)
        project_id = db.get(File, file_id).project_id
    assert project_id == world.project
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        sign_in(page, base, world.emails["client"])
        ranges: list[tuple[str | None, int]] = []
        page.on("response", lambda r: "/transfer/download/" in r.url
                and ranges.append((r.request.headers.get("range"), r.status)))  # fmt: skip
        page.goto(f"{base}/files/{file_id}")
        video = page.locator("video[data-media]")
        assert video.get_attribute("src").startswith("/transfer/download/")
        page.wait_for_function("document.querySelector('video').readyState >= 1")
        # the file service answers Range, so the whole file is seekable before it downloads
        assert video.evaluate("v => v.seekable.length && v.seekable.end(0)") == pytest.approx(
            4.0, abs=0.1
        )
        assert any(status == 206 for _, status in ranges), ranges

        readout = page.locator("[data-timecode]")
        expect(readout).to_have_text("00:00:00:00")
        for _ in range(3):
            page.get_by_role("button", name="Next frame").click()
        expect(readout).to_have_text("00:00:00:03")
        page.get_by_role("button", name="Previous frame").click()
        expect(readout).to_have_text("00:00:00:02")
        page.keyboard.press(".")  # the keyboard steps too (focus on the page, not a field)
        expect(readout).to_have_text("00:00:00:03")
        # jump near the end at once
        page.locator("[data-scrub]").fill("90")
        expect(readout).to_have_text("00:00:03:15")
        page.locator("[data-scrub]").fill("3")
        expect(readout).to_have_text("00:00:00:03")

        # a pin on the paused frame takes that frame's time code
        box = page.locator("[data-overlay]").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        expect(page.locator("#t_start")).to_have_value("00:00:00:03")
        page.get_by_label("Comment", exact=True).fill("Flash frame")
        page.get_by_role("button", name="Post comment").click()
        expect(page.locator("#comments")).to_contain_text("Flash frame")
        (comment,) = comments(app, file_id)
        assert comment.t_start == pytest.approx(3 / 25) and comment.region_x == pytest.approx(
            0.5, abs=0.01
        )

        # its marker on the timeline, its time code in the thread; both go back to the frame
        expect(page.locator("[data-timeline] .marker")).to_have_count(1)
        page.locator("[data-scrub]").fill("50")
        expect(readout).to_have_text("00:00:02:00")
        expect(page.locator(".mark.pin")).to_have_count(0)  # its pin belongs to frame 3 only
        page.get_by_role("button", name="Go to 00:00:00:03").click()
        expect(readout).to_have_text("00:00:00:03")
        expect(page.locator(".mark.pin")).to_have_count(1)
        page.locator("[data-scrub]").fill("0")
        page.get_by_role("button", name="Go to comment: Client: Flash frame").click()
        expect(readout).to_have_text("00:00:00:03")

        # the browser's time code arithmetic is the server's, drop-frame included
        for num, den in ((25, 1), (30000, 1001), (24000, 1001), (60000, 1001)):
            rate = Fraction(num, den)
            frames = [0, 1, 1799, 1800, 17982, 107892, 123457]
            got = page.evaluate("([n, d, fs]) => fs.map(f => new EyeShotsTimecode(n, d).smpte(f))",
                                [num, den, frames])  # fmt: skip
            assert got == [smpte(f, rate) for f in frames]
        browser.close()
