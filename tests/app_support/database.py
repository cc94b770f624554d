"""Database fixtures shared by the app's tests: every DB test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from app.core.db import make_engine
from app.core.migrations import upgrade
from app.models import Base
from app_support.postgres import create_database, postgres_server


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'eyeshots.db'}"
    else:
        url = create_database(request.getfixturevalue("postgres_admin_url"), "eyeshots_test")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def truncate_all(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    # DELETE beats TRUNCATE on tables this small, on PostgreSQL too
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    truncate_all(engine)
    yield engine
    engine.dispose()
