"""Resumable uploads (tus 1.0 core + creation + termination + expiration) through nginx."""

from __future__ import annotations

import base64
import hashlib
import socket

import httpx
from app_support.files_stack import KEYS, PREFIX, wait_until
from app_support.world import World

from app.core.file_tokens import KeyRing, issue
from app.models import FileVersion

PNG = b"\x89PNG\r\n\x1a\n" + hashlib.shake_256(b"tus").digest(3 * 1024**2)
OCTETS = "application/offset+octet-stream"


def headers(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0", **extra}


def upload_token(world: World, who: str = "creative") -> str:
    return issue(KeyRing.parse(KEYS), "upload", world.users[who], world.project, world.file, None,
                 300)  # fmt: skip


def create(stack, token: str, length: int, name: str = "big shot.png") -> httpx.Response:
    meta = "filename " + base64.b64encode(name.encode()).decode()
    return httpx.post(f"{stack.nginx.url}{PREFIX}tus/{stack.world.file}",
                      headers=headers(token, **{"Upload-Length": str(length),
                                                "Upload-Metadata": meta}))  # fmt: skip


def patch(stack, location: str, token: str, offset: int, data: bytes) -> httpx.Response:
    return httpx.patch(stack.nginx.url + location, content=data, timeout=60,
                       headers=headers(token, **{"Upload-Offset": str(offset),
                                                 "Content-Type": OCTETS}))  # fmt: skip


def test_interrupted_upload_resumes_and_becomes_a_version(stack):
    token = upload_token(stack.world)
    options = httpx.options(f"{stack.nginx.url}{PREFIX}tus/{stack.world.file}")
    assert options.headers["tus-version"] == "1.0.0"
    assert "creation" in options.headers["tus-extension"]
    created = create(stack, token, len(PNG))
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert created.headers["upload-expires"].endswith("GMT")

    # the connection drops after a part of the body: what arrived is kept
    host, port = stack.nginx.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"PATCH {location} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                     f"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: {OCTETS}\r\n"
                     f"Content-Length: {len(PNG)}\r\n\r\n".encode() + PNG[: 1024**2])  # fmt: skip

    def offset() -> int:
        head = httpx.head(stack.nginx.url + location, headers=headers(token))
        assert head.status_code == 200 and head.headers["cache-control"] == "no-store"
        return int(head.headers["upload-offset"])

    wait_until(lambda: f"PATCH {location}" in stack.service.log_text(), "the cut PATCH to end")
    resume = offset()
    assert 0 < resume <= 1024**2
    stale = patch(stack, location, token, 0, PNG)
    assert stale.status_code == 409 and stale.headers["upload-offset"] == str(resume)
    assert offset() == resume

    done = patch(stack, location, token, resume, PNG[resume:])
    assert done.status_code == 204, done.text
    assert done.headers["upload-offset"] == str(len(PNG))
    with stack.app.state.sessionmaker() as db:
        version = db.get(FileVersion, int(done.headers["upload-version-id"]))
        assert version.sha256 == hashlib.sha256(PNG).hexdigest()
        assert version.original_name == "big shot.png" and version.content_type == "image/png"
    assert stack.app.state.storage.path(version.storage_key).read_bytes() == PNG
    assert httpx.head(stack.nginx.url + location, headers=headers(token)).status_code == 404


def test_termination_and_other_users(stack):
    token = upload_token(stack.world)
    location = create(stack, token, 1000).headers["location"]
    assert patch(stack, location, token, 0, PNG[:100]).status_code == 204
    # another member of the project cannot touch this user's upload
    other = upload_token(stack.world, "pm")
    refused = httpx.head(stack.nginx.url + location, headers=headers(other))
    assert refused.status_code == 403 and refused.headers["tus-resumable"] == "1.0.0"
    assert httpx.delete(stack.nginx.url + location, headers=headers(other)).status_code == 403
    assert httpx.delete(stack.nginx.url + location, headers=headers(token)).status_code == 204
    assert httpx.head(stack.nginx.url + location, headers=headers(token)).status_code == 404
    assert patch(stack, location, token, 100, b"x").status_code == 404


def test_protocol_errors(stack):
    token = upload_token(stack.world)
    url = f"{stack.nginx.url}{PREFIX}tus/{stack.world.file}"
    assert httpx.post(url, headers={"Authorization": f"Bearer {token}",
                                    "Upload-Length": "10"}).status_code == 412  # fmt: skip
    assert httpx.post(url, headers=headers(token)).status_code == 400  # no Upload-Length
    assert create(stack, token, 10, "../escape.png").status_code == 400
    location = create(stack, token, 10).headers["location"]
    wrong_type = httpx.patch(stack.nginx.url + location, content=b"x", headers=headers(
        token, **{"Upload-Offset": "0", "Content-Type": "application/octet-stream"}))  # fmt: skip
    assert wrong_type.status_code == 415
    no_offset = httpx.patch(stack.nginx.url + location, content=b"x",
                            headers=headers(token, **{"Content-Type": OCTETS}))  # fmt: skip
    assert no_offset.status_code == 400 and "Upload-Offset" in no_offset.json()["detail"]
    # more bytes than announced: refused, and none of them kept
    assert patch(stack, location, token, 0, PNG[:20]).status_code == 400
    head = httpx.head(stack.nginx.url + location, headers=headers(token))
    assert head.headers["upload-offset"] == "0"
    # not an allowed kind: refused on the first bytes
    assert patch(stack, location, token, 0, b"MZ" + b"\x00" * 8).status_code == 415
