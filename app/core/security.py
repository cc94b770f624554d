"""Password hashing and opaque tokens: the only place that knows how secrets are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_LENGTH = 10


class Passwords:
    """argon2id with configurable cost; verify() tells when a stored hash needs an upgrade."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hash = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism),)
        )
        # verifying against this keeps "no such user" as slow as "wrong password"
        self._dummy = self._hash.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """(matches, new hash to store or None)."""
        if not stored:
            self._hash.verify(password, self._dummy)
            return False, None
        return self._hash.verify_and_update(password, stored)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "must be at most 1024 characters"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret_key: str, session_hash: str) -> str:
    """Bound to the session, so a token stolen from one session is useless in another."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_hash.encode(), "sha256").hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
