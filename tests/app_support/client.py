"""An app wired to a test database, and HTTP clients signed in as a given user."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.settings import Settings
from app.main import create_app

BASE = "https://testserver"
PASSWORD = "correct horse battery"
# signs links to the file service; the tests of app/files verify them with the same key ring
FILE_TOKEN_KEYS = "k1:ZmlsZS10b2tlbi10ZXN0LWtleS0wMTIzNDU2Nzg5YWI="


def test_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": "test-secret",
        "base_url": BASE,
        # argon2id still, at a cost that keeps hundreds of sign-ins fast
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        "event_poll_seconds": 0.05,
        "file_token_keys": FILE_TOKEN_KEYS,
    }
    values.update(overrides)
    return Settings(**values)


def make_app(database_url: str, data_dir: Path, **overrides: object) -> FastAPI:
    return create_app(test_settings(database_url, data_dir, **overrides))


def db_session(app: FastAPI) -> Session:
    return app.state.sessionmaker()


def signed_in(app: FastAPI, email: str, password: str = PASSWORD) -> TestClient:
    """A client holding a session cookie, sending the CSRF header on every request."""
    client = TestClient(app, base_url=BASE)
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def session_for(app: FastAPI, user_id: int) -> tuple[str, dict[str, str]]:
    """A session row instead of a sign-in (no hashing, no throttle): (token, auth headers)."""
    from datetime import timedelta

    from app.core.deps import cookie_name
    from app.core.security import csrf_token, hash_token, new_token
    from app.models import UserSession, utcnow

    token = new_token()
    with app.state.sessionmaker.begin() as db:
        db.add(UserSession(user_id=user_id, token_hash=hash_token(token),
                           expires_at=utcnow() + timedelta(hours=2)))  # fmt: skip
    settings = app.state.settings
    return token, {
        "Cookie": f"{cookie_name(settings)}={token}",
        "X-CSRF-Token": csrf_token(settings.secret_key, hash_token(token)),
    }


def queued_mail(app: FastAPI, to: str) -> list:
    """Mail queued for `to`, oldest first (the test app has no SMTP server: nothing leaves)."""
    from sqlalchemy import select

    from app.models import OutgoingMail

    with app.state.sessionmaker() as db:
        rows = db.scalars(
            select(OutgoingMail).where(OutgoingMail.to_addr == to).order_by(OutgoingMail.id)
        )
        return list(rows)
