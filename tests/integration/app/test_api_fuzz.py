"""Schemathesis fuzzes every operation of the published OpenAPI, signed in as an admin (so the
requests get past authentication and reach the handlers) and as a client: no 5xx, ever."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from app_support.client import make_app, session_for
from app_support.world import PEOPLE, build_world
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import update

from app.models import User


@pytest.fixture
def fuzz_target(engine, migrated_url, tmp_path_factory):
    app = make_app(migrated_url, tmp_path_factory.mktemp("fuzz"))
    with TestClient(app):
        yield app, build_world(app)


def _signed_in_headers(app, world, role: str) -> dict[str, str]:
    """A fresh session each time: fuzzed calls may log out, deactivate or demote anyone."""
    with app.state.sessionmaker.begin() as db:
        for name, (user_role, _, _) in PEOPLE.items():
            db.execute(update(User).where(User.id == world.users[name])
                       .values(is_active=True, role=user_role))  # fmt: skip
    return session_for(app, world.users[role])[1]


def test_no_server_errors(fuzz_target):
    # hypothesis driven directly: schemathesis' pytest plugin trips over a fixture that is
    # parametrized over two databases
    app, world = fuzz_target
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    exercised = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/events"):
            continue  # an endless stream; its auth and replay have their own tests

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case) -> None:
            for role in ("admin", "client"):
                headers = _signed_in_headers(app, world, role)
                response = case.call(headers=headers, base_url="https://testserver")
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{role}: {case.method} {case.formatted_path} -> "
                                    f"{response.status_code} {response.text[:200]}")  # fmt: skip

        run()
        exercised += 1
    assert exercised >= 30
    assert not failures, "\n".join(sorted(set(failures))[:20])
    # the fuzzing got past authentication: it is not just 401s
    assert sum(n for code, n in statuses.items() if code < 400) > 40, statuses
    print(
        f"schemathesis: {exercised} operations, responses by status {dict(sorted(statuses.items()))}"
    )
