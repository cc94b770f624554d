"""Basic auth checks one bcrypt hash per attempt whatever the user name (no user-name oracle)."""

from __future__ import annotations

import base64

import bcrypt
import pytest

from monitoring.exporter.server import BasicAuth


def header(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.fixture
def checks(monkeypatch) -> list[bytes]:
    """The hashes bcrypt verifies, recorded around the real bcrypt.checkpw."""
    seen: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        seen.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return seen


def test_unknown_user_costs_one_verification_of_the_same_cost(checks):
    auth = BasicAuth({"prom": bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=5)).decode()})
    assert not auth.allows(header(b"nosuch:pw"))
    assert not auth.allows(header(b"prom:wrong"))
    assert len(checks) == 2
    assert checks[0] != checks[1]
    assert checks[0][:7] == checks[1][:7] == b"$2b$05$"  # same algorithm and cost


def test_right_password_is_verified_once_then_cached(checks):
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$")
    auth = BasicAuth({"prom": hashed})
    assert auth.allows(header(b"prom:pw"))
    assert auth.allows(header(b"prom:pw"))
    assert len(checks) == 1
    # the dummy hash never lets anyone in, even with the password it was made from
    assert not auth.allows(header(b"other:pw"))
    assert not auth.allows("Bearer x") and not auth.allows("Basic !!!")
