"""Bad input to the file service: 403 and nothing written for bad tokens, traversal refused,
400 and no version for a body that does not match its length, 404 for unknown uploads."""

from __future__ import annotations

import socket

import httpx
import pytest
from app_support.files_stack import KEYS, PREFIX, wait_until

from app.core.file_tokens import KeyRing, issue

RING = KeyRing.parse(KEYS)
FORGED = KeyRing.parse("k1:" + "Zm9yZ2VkLWtleS1mb3JnZWQta2V5LWZvcmdlZA==")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def token(stack, action="upload", who="creative", file=None, version=None, ring=RING, seconds=60):
    w = stack.world
    return issue(ring, action, w.users[who], w.project, file or w.file, version, seconds)


def put(stack, tok: str, file_id: int | None = None, **headers: str) -> httpx.Response:
    return httpx.put(f"{stack.nginx.url}{PREFIX}upload/{file_id or stack.world.file}",
                     content=PNG, headers={"Authorization": f"Bearer {tok}", **headers})  # fmt: skip


def versions(stack) -> int:
    from sqlalchemy import func, select

    from app.models import FileVersion

    with stack.app.state.sessionmaker() as db:
        return db.scalar(select(func.count()).select_from(FileVersion))


def test_bad_tokens_get_403_and_nothing_is_written(stack):
    before_keys, before_versions = stack.keys(), versions(stack)
    w = stack.world
    cases = {
        "forged": token(stack, ring=FORGED),
        "expired": token(stack, seconds=-5),
        "tampered": token(stack)[:-3] + "AAA",
        "download token": token(stack, action="download", version=w.version),
        "other file": token(stack, file=w.file + 1000),
        "client (may not upload)": token(stack, who="client"),
        "creative of another project": token(stack, who="other_creative"),
    }
    for case, tok in cases.items():
        response = put(stack, tok)
        assert response.status_code == 403, (case, response.text)
        assert "not valid" in response.json()["detail"], case
    # a token scoped to another file is refused on this one
    assert put(stack, token(stack), file_id=w.file + 1).status_code == 403
    no_token = httpx.put(f"{stack.nginx.url}{PREFIX}upload/{w.file}", content=PNG)
    assert no_token.status_code == 401
    assert stack.keys() == before_keys and versions(stack) == before_versions
    assert stack.leftovers() == []


def test_bad_download_tokens(stack):
    w = stack.world
    url = f"{stack.nginx.url}{PREFIX}download/{w.version}"
    for tok in (token(stack, "upload"), token(stack, "download", version=w.version, ring=FORGED),
                token(stack, "download", version=w.version + 1),
                token(stack, "download", version=w.version, seconds=-1),
                token(stack, "view", who="other_client", version=w.version)):  # fmt: skip
        assert httpx.get(url, params={"t": tok}).status_code == 403
    ok = httpx.get(url, params={"t": token(stack, "download", version=w.version)})
    assert ok.status_code == 200


@pytest.mark.parametrize("name", ["../../etc/passwd", "..%2F..%2Fx.png", "a%5Cb.png", "%2E%2E"])
def test_path_traversal_in_names_is_refused(stack, name):
    before = stack.keys()
    response = put(stack, token(stack), **{"X-Filename": name})
    assert response.status_code == 400 and "path" in response.json()["detail"]
    assert stack.keys() == before


def test_path_traversal_in_upload_ids_is_not_found(stack):
    headers = {"Authorization": f"Bearer {token(stack)}", "Tus-Resumable": "1.0.0"}
    base = f"{stack.service.url}{PREFIX}tus/{stack.world.file}/"
    for upload_id in ("..%2F..%2Fdata%2Feyeshots.db", "0" * 32, "ZZZ"):
        assert httpx.head(base + upload_id, headers=headers).status_code == 404
        response = httpx.patch(base + upload_id, content=b"x", headers={
            **headers, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})  # fmt: skip
        assert response.status_code == 404


def _raw_put(address: str, path: str, tok: str, declared: int, sent: bytes) -> bytes:
    host, port = address.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\n"
                     f"Content-Length: {declared}\r\nConnection: close\r\n\r\n".encode() + sent)  # fmt: skip
        sock.shutdown(socket.SHUT_WR)  # the body ends early
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


@pytest.mark.parametrize("via", ["nginx", "service"])
def test_truncated_body_is_400_and_no_version(stack, via):
    before_keys, before_versions = stack.keys(), versions(stack)
    marker = f"/transfer/test-marker-{via}"
    httpx.get(stack.service.url + marker)  # log lines after this belong to this test
    address = stack.nginx.url if via == "nginx" else stack.service.url
    answer = _raw_put(address, f"{PREFIX}upload/{stack.world.file}", token(stack), 10_000, PNG)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:200]
    if via == "nginx":
        # nginx sees the client gone: it logs 400 and closes without an answer
        last = stack.nginx.access_log.read_text().splitlines()[-1]
        assert '"PUT /transfer/upload/' in last and '" 400 ' in last, last
    else:
        # the service saw the body end early and refused it (the client, gone, may not read
        # the answer); through nginx the request may never reach it
        wait_until(lambda: '"PUT /transfer/upload/1" 400' in stack.service.log_text().split(
            marker)[-1], "the service's 400")  # fmt: skip
    wait_until(lambda: stack.leftovers() == [], "the temp file to be removed")
    assert stack.keys() == before_keys and versions(stack) == before_versions


def test_declared_checksum_must_match(stack):
    before = stack.keys()
    response = put(stack, token(stack), **{"X-Content-SHA256": "0" * 64})
    assert response.status_code == 400 and "X-Content-SHA256" in response.json()["detail"]
    assert stack.keys() == before


def test_a_token_stops_working_when_access_is_revoked(stack):
    """The token is still valid and signed; the database says no."""
    from app.models import MemberRole, ProjectMember, Role, User, UserKind

    w = stack.world
    with stack.app.state.sessionmaker.begin() as db:
        user = User(email="leaver@studio.test", name="Leaver", role=Role.CREATIVE,
                    kind=UserKind.INTERNAL, password_hash="x")  # fmt: skip
        db.add(user)
        db.flush()
        db.add(ProjectMember(project_id=w.project, user_id=user.id, role=MemberRole.CREATIVE))
        user_id = user.id
    tok = issue(RING, "upload", user_id, w.project, w.file, None, 60)
    view = issue(RING, "view", user_id, w.project, w.file, w.version, 60)
    download = f"{stack.nginx.url}{PREFIX}download/{w.version}"
    assert httpx.get(download, params={"t": view, "inline": "1"}).status_code == 200
    with stack.app.state.sessionmaker.begin() as db:
        db.query(ProjectMember).filter_by(user_id=user_id).delete()
    before = stack.keys()
    assert put(stack, tok).status_code == 403
    assert httpx.get(download, params={"t": view, "inline": "1"}).status_code == 403
    assert stack.keys() == before


def test_a_browser_signed_in_as_someone_else_cannot_use_the_link(stack):
    w = stack.world
    view = token(stack, "view", who="creative", version=w.version)
    url = f"{stack.nginx.url}{PREFIX}download/{w.version}"

    def cookie(who: str) -> dict[str, str]:
        value = stack.client(who).cookies["__Host-eyeshots"]
        return {"Cookie": f"__Host-eyeshots={value}"}

    params = {"t": view, "inline": "1"}
    assert httpx.get(url, params=params, headers=cookie("creative")).status_code == 200
    assert httpx.get(url, params=params, headers=cookie("pm")).status_code == 403
