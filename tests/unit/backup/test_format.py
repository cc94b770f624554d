"""Format building blocks: crypto, times, names, polynomials, pack headers."""

from __future__ import annotations

import hashlib
import os

import pytest

from backup.crypto import CryptoError, KDFParams, Key, derive_key
from backup.gotime import format_ns, parse_ns
from backup.pack import DATA, TREE, PackBuilder, PackError, parse_tail
from backup.polynomial import irreducible, random_polynomial
from backup.tree import MODE_DIR, MODE_SETGID, MODE_SYMLINK, go_mode, go_quote, go_unquote


def test_seal_open_roundtrip_and_tamper_detection():
    key = Key.random()
    for size in (0, 1, 15, 16, 17, 100_000):
        plain = os.urandom(size)
        sealed = key.seal(plain)
        assert len(sealed) == size + 32
        assert key.open(sealed) == plain
    sealed = bytearray(key.seal(b"secret"))
    sealed[20] ^= 1
    with pytest.raises(CryptoError):
        key.open(bytes(sealed))
    with pytest.raises(CryptoError):
        Key.random().open(key.seal(b"secret"))


def test_kdf_rejects_bad_salt_and_params():
    with pytest.raises(CryptoError):
        derive_key(b"pw", b"x" * 32, KDFParams(n=1024))
    with pytest.raises(CryptoError):
        derive_key(b"pw", b"x" * 64, KDFParams(n=1023))
    assert derive_key(b"pw", b"s" * 64, KDFParams(n=1024)) == derive_key(
        b"pw", b"s" * 64, KDFParams(n=1024)
    )


@pytest.mark.parametrize(
    "text",
    ["2014-12-22T14:47:59.912418701+01:00", "2026-11-26T16:18:10Z", "1999-01-01T00:00:00.5-05:30"],
)
def test_rfc3339nano_keeps_nanoseconds(text):
    ns = parse_ns(text)
    assert parse_ns(format_ns(ns)) == ns
    assert parse_ns(format_ns(ns, utc=True)) == ns


def test_format_trims_trailing_zeros():
    assert format_ns(1_500_000_000_100_000_000, utc=True) == "2017-07-14T02:40:00.1Z"


@pytest.mark.parametrize(
    "raw,quoted",
    [
        (b"plain.txt", "plain.txt"),
        (b'a"b\\c', 'a\\"b\\\\c'),
        (b"tab\there\n", "tab\\there\\n"),
        ("ü".encode(), "ü"),
        (b"bad\xff\xfe", "bad\\xff\\xfe"),
        (b"\x01", "\\x01"),
    ],
)
def test_go_quote_matches_strconv(raw, quoted):
    assert go_quote(raw) == quoted
    assert go_unquote(quoted) == raw


def test_go_file_modes():
    assert go_mode(0o100644) == 0o644
    assert go_mode(0o041777) == MODE_DIR | 0o777 | (1 << 20)
    assert go_mode(0o120777) == MODE_SYMLINK | 0o777
    assert go_mode(0o042750) == MODE_DIR | MODE_SETGID | 0o750


def test_polynomials():
    assert irreducible(0x3DA3358B4DC173)  # restic's chunker test polynomial
    assert not irreducible(0x3DA3358B4DC173 ^ 1 ^ 3)  # divisible by x+1 (even weight)
    p = random_polynomial()
    assert p.bit_length() == 54 and irreducible(p)


def test_pack_header_roundtrip():
    key = Key.random()
    builder = PackBuilder(key)
    ids = []
    for i, btype in enumerate([DATA, DATA, TREE]):
        plain = f"blob {i}".encode()
        blob_id = hashlib.sha256(plain).digest()
        ids.append(blob_id)
        builder.add(blob_id, btype, key.seal(plain), 0 if i else 42)
    pack_id, data, blobs = builder.finalize()
    assert hashlib.sha256(data).hexdigest() == pack_id
    parsed, need = parse_tail(key, data, len(data))
    assert need == 0 and parsed == blobs
    with pytest.raises(PackError):
        parse_tail(key, data + b"x", len(data) + 1)


@pytest.mark.parametrize(
    "text,ns",
    [
        ("1970-01-01T00:00:01.5Z", 1_500_000_000),
        ("1970-01-01T01:00:00+01:00", 0),
        ("1969-12-31T23:59:59.25Z", -750_000_000),
        ("2026-11-26T16:18:10.123456789123Z", 1_795_709_890_123_456_789),
    ],
)
def test_parse_exact_values(text, ns):
    assert parse_ns(text) == ns
