"""Size limit (413), project quota (507), sniffed content types (415) and a full disk (507, a
real small tmpfs: nothing half-written stays, nothing stored before is touched)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import httpx
import pytest
from app_support.files_stack import KEYS, PREFIX, file_service

from app.core.file_tokens import KeyRing, issue
from app.models import FileVersion

from .conftest import make_env, prepare

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56


def png(size: int) -> bytes:
    return PNG_HEAD + hashlib.shake_256(str(size).encode()).digest(size - len(PNG_HEAD))


def put(service, world, data: bytes) -> httpx.Response:
    token = issue(KeyRing.parse(KEYS), "upload", world.users["creative"], world.project,
                  world.file, None, 60)  # fmt: skip
    return httpx.put(f"{service.url}{PREFIX}upload/{world.file}", content=data, timeout=60,
                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip


def count_versions(app) -> int:
    with app.state.sessionmaker() as db:
        return db.query(FileVersion).count()


def test_size_quota_and_type_limits(tmp_path):
    app, world = prepare(tmp_path)
    env = make_env(tmp_path, EYESHOTS_FILES_MAX_UPLOAD_BYTES=str(1024**2),
                   EYESHOTS_FILES_PROJECT_QUOTA_BYTES=str(1536 * 1024))  # fmt: skip
    with file_service(env, tmp_path / "service.log") as service:
        before = count_versions(app)
        too_big = put(service, world, png(1024**2 + 1))
        assert too_big.status_code == 413 and "upload limit" in too_big.json()["detail"]
        assert put(service, world, png(1024**2)).status_code == 201
        over = put(service, world, png(600 * 1024))
        assert over.status_code == 507 and "quota" in over.json()["detail"]
        exe = put(service, world, b"MZ\x90\x00" + b"\x00" * 500)
        assert exe.status_code == 415 and "image/png" in exe.json()["detail"]
        html = put(service, world, b"<html><script>alert(1)</script></html>")
        assert html.status_code == 415
        assert count_versions(app) == before + 1
        assert list((tmp_path / "files" / "tmp").iterdir()) == []
    app.state.engine.dispose()


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_full_disk_is_507_and_corrupts_nothing(tmp_path, small_disk: Path):
    app, world = prepare(tmp_path, files_dir=small_disk)
    env = make_env(tmp_path, EYESHOTS_FILES_DIR=str(small_disk))
    with file_service(env, tmp_path / "service.log") as service:
        first = png(1024**2)
        created = put(service, world, first)
        assert created.status_code == 201
        before = count_versions(app)
        full = put(service, world, png(5 * 1024**2))
        assert full.status_code == 507 and "storage is full" in full.json()["detail"]
        assert list((small_disk / "tmp").iterdir()) == []
        assert count_versions(app) == before
        with app.state.sessionmaker() as db:
            key = db.get(FileVersion, created.json()["version_id"]).storage_key
        assert app.state.storage.path(key).read_bytes() == first
        # and the space is back: the next upload that fits succeeds
        assert put(service, world, png(512 * 1024)).status_code == 201
    app.state.engine.dispose()
