from __future__ import annotations

import hashlib

import pytest

from app.storage import LocalStorage


def test_put_hashes_and_renames_into_place(tmp_path):
    storage = LocalStorage(tmp_path)
    stored = storage.put([b"abc", b"def"])
    assert stored.size == 6 and stored.sha256 == hashlib.sha256(b"abcdef").hexdigest()
    assert b"".join(storage.read(stored.key)) == b"abcdef"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    storage = LocalStorage(tmp_path)

    def broken():
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        storage.put(broken())
    assert list((tmp_path / "tmp").iterdir()) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("key", ["../etc/passwd", "ABC", "", "0" * 31, "0" * 32 + "/x"])
def test_keys_cannot_escape_the_root(tmp_path, key):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).path(key)
