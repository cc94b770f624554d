from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from app_support.client import make_app, signed_in
from app_support.database import postgres_admin_url  # noqa: F401
from app_support.files_stack import KEYS, FileService, Nginx, file_service, nginx
from app_support.postgres import create_database
from app_support.world import World, build_world
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.db import make_engine
from app.core.migrations import upgrade


@dataclass
class Stack:
    app: FastAPI
    world: World
    env: dict[str, str]
    files_dir: Path
    root: Path
    service: FileService
    nginx: Nginx

    def client(self, who: str) -> TestClient:
        """The app's JSON API, signed in as one of the world's people."""
        return signed_in(self.app, self.world.emails[who])

    def keys(self) -> set[str]:
        return set(self.app.state.storage.keys())

    def leftovers(self) -> list[Path]:
        return sorted((self.files_dir / "tmp").iterdir())


def make_env(root: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{root / 'data' / 'eyeshots.db'}",
        "EYESHOTS_DATA_DIR": str(root / "data"),
        "EYESHOTS_FILES_DIR": str(root / "files"),
        "EYESHOTS_FILE_TOKEN_KEYS": KEYS,
        **extra,
    }


def prepare(
    root: Path, files_dir: Path | None = None, url: str | None = None
) -> tuple[FastAPI, World]:
    """A migrated database (SQLite unless `url`) with the test world, files under `files_dir`."""
    url = url or make_env(root)["DATABASE_URL"]
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = make_app(url, root / "data", files_dir=files_dir or root / "files")
    return app, build_world(app)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    """The service and nginx on a world in SQLite, then in PostgreSQL (one database each)."""
    root = tmp_path_factory.mktemp("files")
    env = make_env(root, EYESHOTS_FILES_MAX_UPLOAD_BYTES=str(256 * 1024**2))
    if request.param == "postgresql":
        name = "files_" + request.module.__name__.rsplit(".", 1)[-1]
        env["DATABASE_URL"] = create_database(request.getfixturevalue("postgres_admin_url"), name)
    app, world = prepare(root, url=env["DATABASE_URL"])
    with file_service(env, root / "service.log") as service:
        upstream = service.url.removeprefix("http://")
        with nginx(upstream, root / "files", root / "nginx") as proxy:
            yield Stack(app, world, env, root / "files", root, service, proxy)
    app.state.engine.dispose()
