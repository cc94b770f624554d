"""Short-lived tokens the app issues and the file service verifies (HMAC-SHA256, key ids).

Format: `ft1.<kid>.<b64url(json claims)>.<b64url(hmac)>`; the MAC covers everything before it,
so the key id cannot be swapped. A token only says what the app allowed when it issued it; the
file service still checks the database (the user may have lost access since).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "ft1"
KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class TokenError(Exception):
    """The token is malformed, forged, expired or scoped to something else."""


class KeyRingError(ValueError):
    """The configured keys cannot be used."""


def _b64decode(text: str) -> bytes:
    # standard or URL-safe alphabet, padding optional: what shells and `base64` produce
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # first signs, all verify

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        keys = []
        for item in (i.strip() for i in spec.replace("\n", ",").split(",")):
            if not item or item.startswith("#"):
                continue
            kid, sep, secret = item.partition(":")
            if not sep or not KID.match(kid):
                raise KeyRingError(
                    f"file token key {kid!r}: write each key as kid:base64secret "
                    "(kid of letters, digits, - or _)"
                )
            try:
                raw = _b64decode(secret)
            except (binascii.Error, ValueError):
                raise KeyRingError(f"file token key {kid!r}: the secret is not base64") from None
            if len(raw) < 16:
                raise KeyRingError(f"file token key {kid!r}: the secret needs at least 16 bytes")
            keys.append((kid, raw))
        if not keys:
            raise KeyRingError(
                "no file token keys: set EYESHOTS_FILE_TOKEN_KEYS=kid:base64secret "
                "(or EYESHOTS_FILE_TOKEN_KEYS_FILE)"
            )
        return cls(tuple(keys))

    @classmethod
    def from_settings(cls, keys: str, keys_file: Path | None) -> KeyRing:
        if keys_file is not None:
            try:
                text = keys_file.read_text()
            except OSError as error:
                raise KeyRingError(f"cannot read {keys_file}: {error.strerror}") from None
            # an EnvironmentFile-style line is accepted too
            keys = text.strip().removeprefix("EYESHOTS_FILE_TOKEN_KEYS=")
        return cls.parse(keys)

    def _mac(self, secret: bytes, message: str) -> bytes:
        return hmac.new(secret, message.encode(), hashlib.sha256).digest()

    def sign(self, claims: dict[str, object]) -> str:
        kid, secret = self.keys[0]
        body = _b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        message = f"{PREFIX}.{kid}.{body}"
        return f"{message}.{_b64url(self._mac(secret, message))}"

    def verify(self, token: str, now: float | None = None) -> dict[str, object]:
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != PREFIX:
            raise TokenError("malformed token")
        _, kid, body, mac = parts
        secret = dict(self.keys).get(kid)
        if secret is None:
            raise TokenError("unknown key id")
        try:
            given = _b64decode(mac)
        except (binascii.Error, ValueError):
            raise TokenError("malformed token") from None
        if not hmac.compare_digest(given, self._mac(secret, f"{PREFIX}.{kid}.{body}")):
            raise TokenError("bad signature")
        claims = json.loads(_b64decode(body))
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            raise TokenError("malformed claims")
        if claims["exp"] < (time.time() if now is None else now):
            raise TokenError("expired token")
        return claims


@dataclass(frozen=True)
class FileGrant:
    """What a token allows: one action by one user on one file (and version, for downloads)."""

    action: str  # "upload" | "download"
    user_id: int
    project_id: int
    file_id: int
    version_id: int | None
    expires: int

    def claims(self) -> dict[str, object]:
        return {"a": self.action, "u": self.user_id, "p": self.project_id, "f": self.file_id,
                "v": self.version_id, "exp": self.expires}  # fmt: skip

    @classmethod
    def from_claims(cls, claims: dict[str, object]) -> FileGrant:
        try:
            return cls(
                action=str(claims["a"]),
                user_id=int(claims["u"]),  # type: ignore[arg-type]
                project_id=int(claims["p"]),  # type: ignore[arg-type]
                file_id=int(claims["f"]),  # type: ignore[arg-type]
                version_id=None if claims.get("v") is None else int(claims["v"]),  # type: ignore[arg-type]
                expires=int(claims["exp"]),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError, ValueError):
            raise TokenError("malformed claims") from None


def issue(
    ring: KeyRing,
    action: str,
    user_id: int,
    project_id: int,
    file_id: int,
    version_id: int | None,
    seconds: int,
) -> str:
    grant = FileGrant(action, user_id, project_id, file_id, version_id, int(time.time()) + seconds)
    return ring.sign(grant.claims())


def check(ring: KeyRing, token: str, now: float | None = None) -> FileGrant:
    return FileGrant.from_claims(ring.verify(token, now))
