"""Pack files: encrypted blobs, then the encrypted header listing them, then its length."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from backup import compression
from backup.crypto import OVERHEAD, Key

DATA = "data"
TREE = "tree"

ENTRY_PLAIN = 37  # type, u32 length, sha256
ENTRY_COMPRESSED = 41  # type, u32 length, u32 uncompressed length, sha256
_TYPE_BYTES = {(DATA, False): 0, (TREE, False): 1, (DATA, True): 2, (TREE, True): 3}
_BYTE_TYPES = {v: k for k, v in _TYPE_BYTES.items()}
MAX_HEADER_SIZE = 16 * 1024 * 1024
# restic reads the tail eagerly: the last 15 entries plus the header framing
EAGER_TAIL = 15 * ENTRY_COMPRESSED + OVERHEAD + 4


class PackError(Exception):
    """A pack file is malformed."""


@dataclass(frozen=True)
class Blob:
    id: bytes
    type: str
    offset: int
    length: int
    uncompressed_length: int = 0  # 0 means stored uncompressed

    @property
    def plain_length(self) -> int:
        return self.uncompressed_length or self.length - OVERHEAD


def seal_blob(
    key: Key, plaintext: bytes | memoryview, compress: bool = True
) -> tuple[tuple[bytes, ...], int]:
    """Encrypt one blob; returns (sealed pieces, uncompressed length or 0 if stored plain)."""
    if compress and len(plaintext):
        packed = compression.compress(plaintext)
        # incompressible data is kept plain: same validity, cheaper to restore
        if len(packed) < len(plaintext):
            return key.seal_parts(packed), len(plaintext)
    return key.seal_parts(plaintext), 0


def open_blob(key: Key, blob: Blob, sealed: bytes | memoryview, verify: bool = True) -> bytes:
    """Decrypt (MAC-checked) and decompress a blob; `verify` also re-hashes the plaintext."""
    plain = key.open(sealed)
    if blob.uncompressed_length:
        plain = compression.decompress(plain, blob.uncompressed_length)
        if len(plain) != blob.uncompressed_length:
            raise PackError(f"blob {blob.id.hex()}: decompressed size mismatch")
    if verify and hashlib.sha256(plain).digest() != blob.id:
        raise PackError(f"blob {blob.id.hex()}: content does not match its ID")
    return plain


class PackBuilder:
    """Accumulates sealed blobs of one type in memory until the pack is uploaded."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self.parts: list[bytes] = []
        self.size = 0
        self.blobs: list[Blob] = []

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        blob_id: bytes,
        btype: str,
        sealed: bytes | tuple[bytes, ...],
        uncompressed_length: int,
    ) -> None:
        """`sealed`: one sealed blob, whole or in pieces (IV, ciphertext, MAC)."""
        if isinstance(sealed, bytes | bytearray | memoryview):
            sealed = (bytes(sealed),)
        length = sum(len(p) for p in sealed)
        self.blobs.append(Blob(blob_id, btype, self.size, length, uncompressed_length))
        self.parts.extend(sealed)
        self.size += length

    def header_size(self) -> int:
        return sum(ENTRY_COMPRESSED if b.uncompressed_length else ENTRY_PLAIN for b in self.blobs)

    def finalize(self) -> tuple[str, bytes, list[Blob]]:
        header = self.key.seal(encode_header(self.blobs))
        data = b"".join([*self.parts, header, struct.pack("<I", len(header))])
        self.parts = []
        return hashlib.sha256(data).hexdigest(), data, self.blobs


def encode_header(blobs: list[Blob]) -> bytes:
    out = bytearray()
    for b in blobs:
        out.append(_TYPE_BYTES[(b.type, bool(b.uncompressed_length))])
        out += struct.pack("<I", b.length)
        if b.uncompressed_length:
            out += struct.pack("<I", b.uncompressed_length)
        out += b.id
    return bytes(out)


def decode_header(plain: bytes) -> list[Blob]:
    blobs: list[Blob] = []
    pos = offset = 0
    while pos < len(plain):
        try:
            btype, compressed = _BYTE_TYPES[plain[pos]]
        except KeyError as e:
            raise PackError(f"invalid blob type {plain[pos]} in pack header") from e
        (length,) = struct.unpack_from("<I", plain, pos + 1)
        if compressed:
            (ulen,) = struct.unpack_from("<I", plain, pos + 5)
            blob_id = plain[pos + 9 : pos + 41]
            pos += ENTRY_COMPRESSED
        else:
            ulen = 0
            blob_id = plain[pos + 5 : pos + 37]
            pos += ENTRY_PLAIN
        if len(blob_id) != 32:
            raise PackError("truncated pack header")
        blobs.append(Blob(bytes(blob_id), btype, offset, length, ulen))
        offset += length
    return blobs


def parse_tail(key: Key, tail: bytes, pack_size: int) -> tuple[list[Blob], int]:
    """Decode the header from the last bytes of a pack. Returns (blobs, bytes still needed).

    If `tail` is too short for the header, returns ([], n) where n is the tail size needed.
    """
    if pack_size < ENTRY_PLAIN + OVERHEAD + 4 or len(tail) < 4:
        raise PackError(f"pack file too small ({pack_size} bytes)")
    (hlen,) = struct.unpack("<I", tail[-4:])
    if hlen < OVERHEAD or hlen > pack_size - 4 or hlen > MAX_HEADER_SIZE - 4:
        raise PackError(f"invalid pack header length {hlen}")
    if hlen + 4 > len(tail):
        return [], hlen + 4
    blobs = decode_header(key.open(tail[-4 - hlen : -4]))
    if not blobs:
        raise PackError("pack header lists no blobs")
    if blobs[-1].offset + blobs[-1].length + hlen + 4 != pack_size:
        raise PackError("pack size does not match its header")
    return blobs, 0
