"""Uploads and downloads as the browser makes them: through a real nginx running the role's
file-service locations, to `eyeshots files serve` in its own process, on one SQLite database
shared with the app (which issues the tokens)."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from urllib.parse import quote

import httpx
import psutil
from app_support.files_stack import wait_until
from app_support.world import MP4

from app.models import DecisionKind, FileVersion, Project, User
from app.reviews import service as reviews

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56


def body(size: int, seed: int = 1) -> bytes:
    return PNG_HEAD + hashlib.shake_256(str(seed).encode()).digest(size - len(PNG_HEAD))


def upload_link(stack, who: str = "creative") -> dict:
    response = stack.client(who).post(f"/api/files/{stack.world.file}/upload-link")
    assert response.status_code == 200, response.text
    return response.json()


def put(stack, link: dict, data: bytes, name: str = "shot.png", **headers: str) -> httpx.Response:
    return httpx.put(
        stack.nginx.url + link["upload_url"], content=data, timeout=60,
        headers={"Authorization": f"Bearer {link['token']}", "X-Filename": quote(name), **headers},
    )  # fmt: skip


def version_row(stack, version_id: int) -> FileVersion | None:
    with stack.app.state.sessionmaker() as db:
        return db.get(FileVersion, version_id)


def test_streamed_upload_then_download_sent_by_nginx_with_ranges(stack):
    data = body(3 * 1024**2 + 17)
    response = put(stack, upload_link(stack), data, "Café final ü.png")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["sha256"] == hashlib.sha256(data).hexdigest()
    assert created["content_type"] == "image/png" and created["size"] == len(data)
    version = version_row(stack, created["version_id"])
    assert version.original_name == "Café final ü.png"
    stored = stack.app.state.storage.path(version.storage_key)
    assert stored.read_bytes() == data and "Caf" not in str(stored)
    assert stack.leftovers() == []

    links = stack.client("creative").get(f"/api/versions/{version.id}/links").json()
    got = httpx.get(stack.nginx.url + links["download_url"], timeout=60)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"Cafe final u.png\"; filename*=UTF-8''Caf%C3%A9%20final%20%C3%BC.png"
    )
    assert "x-accel-redirect" not in got.headers
    ranged = httpx.get(stack.nginx.url + links["download_url"], headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == data[100:200]
    assert ranged.headers["content-range"] == f"bytes 100-199/{len(data)}"
    view = httpx.get(stack.nginx.url + links["view_url"])
    assert view.status_code == 200 and view.headers["content-disposition"].startswith("inline;")
    # the internal location is not reachable from outside
    internal = "/_protected/" + stack.app.state.storage.internal_path(version.storage_key)
    assert httpx.get(stack.nginx.url + internal).status_code == 404


def test_clients_download_only_approved_versions_of_their_organisation(stack):
    world = stack.world
    client = stack.client("client")
    links = client.get(f"/api/versions/{world.version}/links").json()
    assert links["download_url"] is None and links["view_url"]
    assert httpx.get(stack.nginx.url + links["view_url"]).status_code == 200
    with stack.app.state.sessionmaker.begin() as db:
        version = db.get(FileVersion, world.version)
        project = db.get(Project, world.project)
        reviews.decide(db, db.get(User, world.users["client"]), version, project,
                       DecisionKind.APPROVED, "")  # fmt: skip
    links = client.get(f"/api/versions/{world.version}/links").json()
    assert httpx.get(stack.nginx.url + links["download_url"]).content == MP4
    # the same URL for a client of another organisation: the token is not theirs, and their own
    # session cannot even see the version
    other = stack.client("other_client")
    assert other.get(f"/api/versions/{world.version}/links").status_code == 404


def test_disconnect_mid_upload_leaves_no_file_and_no_version(stack):
    link = upload_link(stack)
    keys_before = stack.keys()
    host, port = stack.nginx.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            f"PUT {link['upload_url']} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            f"{link['token']}\r\nContent-Length: {20 * 1024**2}\r\n\r\n".encode()
            + body(4 * 1024**2)
        )
    wait_until(lambda: f"PUT {link['upload_url']}" in stack.service.log_text(),
               "the service to finish the interrupted request")  # fmt: skip
    assert stack.keys() == keys_before and stack.leftovers() == []


def test_memory_stays_flat_during_a_large_upload(stack):
    """64 MiB here; the 2 GiB measurement is in bench/files_vs_nginx.py."""
    process = psutil.Process(stack.service.process.pid)
    before, peak, done = process.memory_info().rss, 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            done.wait(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    size = 64 * 1024**2

    def chunks():
        yield PNG_HEAD
        block = os.urandom(1 << 20)
        for _ in range(size // len(block) - 1):
            yield block
        yield block[: (1 << 20) - len(PNG_HEAD)]

    try:
        response = httpx.put(stack.nginx.url + upload_link(stack)["upload_url"],
                             content=chunks(), timeout=120, headers={
                                 "Authorization": f"Bearer {upload_link(stack)['token']}",
                                 "Content-Length": str(size)})  # fmt: skip
    finally:
        done.set()
        sampler.join()
    assert response.status_code == 201, response.text
    assert peak - before < 30 * 1024**2, f"RSS grew by {(peak - before) / 1024**2:.1f} MiB"


def test_no_token_reaches_any_log(stack):
    # runs after the others in this module: every request above carried a token
    for text in (stack.service.log_text(), stack.nginx.access_log.read_text()):
        assert "/transfer/" in text
        assert "ft1." not in text and "?t=" not in text and "Bearer" not in text
