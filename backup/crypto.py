"""restic's authenticated encryption: AES-256-CTR + Poly1305-AES, and the scrypt KDF.

Every encrypted object is IV(16) || ciphertext || MAC(16); the MAC covers the ciphertext only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives import poly1305
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

IV_SIZE = 16
MAC_SIZE = 16
OVERHEAD = IV_SIZE + MAC_SIZE


_ecb = threading.local()


class CryptoError(Exception):
    """Ciphertext failed authentication (wrong key, or the bytes were altered)."""


@dataclass(frozen=True)
class Key:
    """A restic master or user key: 32 bytes AES key, 16 bytes MAC k, 16 bytes MAC r."""

    encrypt: bytes
    mac_k: bytes
    mac_r: bytes

    @classmethod
    def random(cls) -> Key:
        return cls(os.urandom(32), os.urandom(16), os.urandom(16))

    def to_json(self) -> dict:
        b64 = base64.b64encode
        return {
            "mac": {"k": b64(self.mac_k).decode(), "r": b64(self.mac_r).decode()},
            "encrypt": b64(self.encrypt).decode(),
        }

    @classmethod
    def from_json(cls, data: dict) -> Key:
        d = base64.b64decode
        key = cls(d(data["encrypt"]), d(data["mac"]["k"]), d(data["mac"]["r"]))
        if len(key.encrypt) != 32 or len(key.mac_k) != 16 or len(key.mac_r) != 16:
            raise CryptoError("master key has wrong length")
        return key

    @cached_property
    def _aes(self) -> algorithms.AES:
        return algorithms.AES(self.encrypt)

    def _mac(self, iv: bytes, ciphertext: bytes | memoryview) -> bytes:
        # Poly1305-AES: the one-time key s is AES-128_k(nonce); cryptography clamps r itself.
        # ECB is stateless per block, so one context per thread and key serves every nonce.
        try:
            enc = _ecb.contexts[self.mac_k]
        except (AttributeError, KeyError):
            if not hasattr(_ecb, "contexts"):
                _ecb.contexts = {}
            enc = _ecb.contexts[self.mac_k] = Cipher(
                algorithms.AES(self.mac_k), modes.ECB()
            ).encryptor()
        return poly1305.Poly1305.generate_tag(self.mac_r + enc.update(iv), ciphertext)

    def seal_parts(self, plaintext: bytes | bytearray | memoryview) -> tuple[bytes, ...]:
        """IV, ciphertext and MAC as separate pieces: written one after the other they are
        the sealed object. No zero-filled buffer, no copy (a pack joins them once)."""
        iv = os.urandom(IV_SIZE)
        ct = Cipher(self._aes, modes.CTR(iv)).encryptor().update(plaintext) if plaintext else b""
        return iv, ct, self._mac(iv, ct)

    def seal(self, plaintext: bytes | bytearray | memoryview) -> bytes:
        return b"".join(self.seal_parts(plaintext))

    def open(self, data: bytes | bytearray | memoryview) -> bytes:
        if len(data) < OVERHEAD:
            raise CryptoError("ciphertext too short")
        view = memoryview(data)
        iv = bytes(view[:IV_SIZE])
        ct = view[IV_SIZE:-MAC_SIZE]
        if not hmac.compare_digest(self._mac(iv, ct), bytes(view[-MAC_SIZE:])):
            raise CryptoError("ciphertext verification failed")
        # CTR is a stream mode: update() returns everything, finalize() nothing (no copy)
        return Cipher(self._aes, modes.CTR(iv)).decryptor().update(ct)


@dataclass(frozen=True)
class KDFParams:
    n: int = 32768
    r: int = 8
    p: int = 1

    def check(self) -> None:
        # the same bounds restic's simple-scrypt enforces
        if self.n <= 1 or self.n % 2 or self.r < 1 or self.p < 1 or self.r * self.p >= 1 << 30:
            raise CryptoError(f"invalid scrypt parameters N={self.n} r={self.r} p={self.p}")


SALT_SIZE = 64


def derive_key(password: bytes, salt: bytes, params: KDFParams) -> Key:
    params.check()
    if len(salt) != SALT_SIZE:
        raise CryptoError(f"scrypt salt must be {SALT_SIZE} bytes, got {len(salt)}")
    # OpenSSL's default 32 MiB cap is below restic's N=32768 r=8
    maxmem = 128 * params.r * params.n * 2 + 64 * 1024 * 1024
    # imported here: the CLI derives the key in a thread while the main thread imports
    from nacl.bindings import crypto_pwhash_scryptsalsa208sha256_ll
    from nacl.exceptions import CryptoError as NaclError

    try:
        # libsodium's SIMD scrypt is ~20 % faster than OpenSSL's and, through cffi, releases
        # the GIL too; opening a repository spends most of its time here
        raw = crypto_pwhash_scryptsalsa208sha256_ll(
            password, salt, params.n, params.r, params.p, dklen=64, maxmem=maxmem
        )
    except (NaclError, ValueError):  # parameters libsodium refuses: OpenSSL takes any valid
        raw = hashlib.scrypt(
            password, salt=salt, n=params.n, r=params.r, p=params.p, maxmem=maxmem, dklen=64
        )
    return Key(raw[:32], raw[32:48], raw[48:64])
