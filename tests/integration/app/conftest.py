from __future__ import annotations

import pytest
from app_support.client import make_app
from app_support.database import engine, migrated_url, postgres_admin_url  # noqa: F401
from app_support.world import build_world
from fastapi.testclient import TestClient


@pytest.fixture
def app(engine, migrated_url, tmp_path):  # noqa: F811
    application = make_app(migrated_url, tmp_path)
    with TestClient(application):  # runs the lifespan: the event broker starts
        yield application


@pytest.fixture
def world(app):
    return build_world(app)
