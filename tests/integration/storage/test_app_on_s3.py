"""The web platform configured for S3 only through its environment keeps files in the bucket."""

from __future__ import annotations

import hashlib

import pytest
from app_support.client import BASE, session_for
from app_support.world import build_world
from fastapi.testclient import TestClient

from app.core.db import make_engine
from app.core.migrations import upgrade
from app.core.settings import get_settings
from app.main import create_app
from app.models import FileVersion
from app.storage.s3 import S3Storage

from .conftest import ACCESS_KEY, SECRET_KEY


@pytest.fixture
def s3_env(moto, bucket, tmp_path) -> dict[str, str]:
    """What an operator sets for the S3 backend, the secret in a file (a systemd credential)."""
    (tmp_path / "secret").write_text(SECRET_KEY + "\n")
    return {
        "EYESHOTS_STORAGE": "s3",
        "EYESHOTS_S3_ENDPOINT": moto.endpoint,
        "EYESHOTS_S3_BUCKET": bucket,
        "EYESHOTS_S3_PREFIX": "studio",
        "EYESHOTS_S3_ACCESS_KEY": ACCESS_KEY,
        "EYESHOTS_S3_SECRET_KEY_FILE": str(tmp_path / "secret"),
    }


@pytest.fixture
def s3_app(s3_env, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'eyeshots.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    for name, value in {
        "DATABASE_URL": url,
        "EYESHOTS_DATA_DIR": str(tmp_path / "data"),
        "EYESHOTS_SECRET_KEY": "test-secret",
        "EYESHOTS_BASE_URL": BASE,
        "EYESHOTS_ARGON2_TIME_COST": "1",
        "EYESHOTS_ARGON2_MEMORY_KIB": "1024",
        "EYESHOTS_ARGON2_PARALLELISM": "1",
        **s3_env,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    application = create_app()  # the settings uvicorn's factory call would read
    with TestClient(application):
        yield application
    get_settings.cache_clear()


def test_a_version_uploaded_through_the_api_lives_in_the_bucket(s3_app, moto, bucket, tmp_path):
    assert isinstance(s3_app.state.storage, S3Storage)
    world = build_world(s3_app)
    _, headers = session_for(s3_app, world.users["creative"])
    body = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
    with TestClient(s3_app, base_url=BASE) as client:
        response = client.post(
            f"/api/files/{world.file}/versions",
            content=body,
            headers={**headers, "Content-Type": "image/png", "X-Filename": "still.png"},
        )
        assert response.status_code == 201, response.text
        version = response.json()
        assert version["sha256"] == hashlib.sha256(body).hexdigest()
        with s3_app.state.sessionmaker() as db:
            key = db.get(FileVersion, version["id"]).storage_key
        stored = moto.client.get_object(Bucket=bucket, Key=f"studio/{key}")["Body"].read()
        assert stored == body
        # the preview route streams it back out of the bucket after its permission check
        content = client.get(f"/api/versions/{version['id']}/content", headers=headers)
        assert content.status_code == 200
        assert content.content == body and content.headers["content-type"] == "image/png"
    # nothing of it went to local disk
    assert not (tmp_path / "data" / "files").exists()


def test_check_storage_command(s3_env, bucket):
    from eyeshots_cli import eyeshots

    env = s3_env
    ok = eyeshots("app", "check-storage", env=env, timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip() == f"ok: s3://{bucket}/studio", ok.stderr
    missing = eyeshots("app", "check-storage", env={**env, "EYESHOTS_S3_BUCKET": "gone-bucket"},
                       timeout=60)  # fmt: skip
    assert missing.returncode == 1
    assert (
        missing.stderr.strip()
        == "Error: storage not usable: S3 bucket 'gone-bucket' does not exist"
    )
    no_key = eyeshots("app", "check-storage", env={**env, "EYESHOTS_S3_ACCESS_KEY": ""}, timeout=60)
    assert no_key.returncode == 1
    assert no_key.stderr.strip() == (
        "Error: bad storage settings: EYESHOTS_S3_ACCESS_KEY (or EYESHOTS_S3_ACCESS_KEY_FILE) "
        "is not set (needed with EYESHOTS_STORAGE=s3)"
    )
