"""Key files (keys/<id>): a password-derived key wrapping the repository's master key."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import time
from typing import TYPE_CHECKING

from backup.backends.base import FileType
from backup.crypto import SALT_SIZE, CryptoError, KDFParams, Key, derive_key
from backup.gotime import format_ns
from backup.identity import username

if TYPE_CHECKING:
    from backup.repository import Repository


def calibrate(target_seconds: float = 0.5) -> KDFParams:
    """restic's approach: N and r fixed for ~32 MiB of memory, p raised to fill the time budget."""
    probe = KDFParams()
    start = time.perf_counter()
    derive_key(b"calibrate", os.urandom(SALT_SIZE), probe)
    spent = max(time.perf_counter() - start, 1e-3)
    return KDFParams(n=probe.n, r=probe.r, p=max(1, min(int(target_seconds / spent), 64)))


def make_key_file(master: Key, password: bytes, params: KDFParams) -> bytes:
    salt = os.urandom(SALT_SIZE)
    user_key = derive_key(password, salt, params)
    sealed = user_key.seal(json.dumps(master.to_json()).encode())
    doc = {
        "created": format_ns(time.time_ns()),
        "username": username(),
        "hostname": socket.gethostname(),
        "kdf": "scrypt",
        "N": params.n,
        "r": params.r,
        "p": params.p,
        "salt": base64.b64encode(salt).decode(),
        "data": base64.b64encode(sealed).decode(),
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def parse_key_file(data: bytes) -> dict:
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise ValueError(f"not valid JSON, truncated? {e}") from None
    if not isinstance(doc, dict):
        raise ValueError("not a key file")
    if doc.get("kdf") != "scrypt":
        raise CryptoError(f"unsupported kdf {doc.get('kdf')!r}")
    for field in ("N", "r", "p", "salt", "data"):
        if field not in doc:
            raise ValueError(f"field {field!r} missing")
    return doc


def open_key_file(data: bytes | dict, password: bytes) -> Key:
    """The master key a key file (bytes, or already parsed) wraps; CryptoError when the
    password does not open it."""
    doc = data if isinstance(data, dict) else parse_key_file(data)
    params = KDFParams(n=doc["N"], r=doc["r"], p=doc["p"])
    user_key = derive_key(password, base64.b64decode(doc["salt"]), params)
    plain = user_key.open(base64.b64decode(doc["data"]))
    return Key.from_json(json.loads(plain))


def add_key(repo: Repository, password: bytes, params: KDFParams | None = None) -> str:
    """Store a new key file that unlocks the same master key with another password."""
    data = make_key_file(repo.key, password, params or calibrate())
    name = hashlib.sha256(data).hexdigest()
    repo.backend.save(FileType.KEY, name, data)
    return name


def list_keys(repo: Repository) -> list[dict]:
    out = []
    for name, _ in repo.backend.list(FileType.KEY):
        try:
            doc = parse_key_file(repo.backend.load(FileType.KEY, name))
        except (ValueError, CryptoError):
            doc = {}
        out.append(
            {
                "id": name,
                "current": name == repo.key_id,
                "username": doc.get("username", ""),
                "hostname": doc.get("hostname", ""),
                "created": doc.get("created", ""),
            }
        )
    return sorted(out, key=lambda k: k["created"])


def remove_key(repo: Repository, key_id: str) -> str:
    matches = [k["id"] for k in list_keys(repo) if k["id"].startswith(key_id)]
    if len(matches) != 1:
        raise KeyError(f"key {key_id!r}: " + ("no match" if not matches else "ambiguous prefix"))
    if matches[0] == repo.key_id:
        raise ValueError("refusing to remove the key currently in use; open with another password")
    repo.backend.remove(FileType.KEY, matches[0])
    return matches[0]
