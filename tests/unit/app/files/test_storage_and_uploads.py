"""LocalStorage's file-service additions and the resumable-upload store."""

from __future__ import annotations

import hashlib

from app.files.uploads import UploadStore
from app.storage import LocalStorage


def test_put_file_keys_and_internal_path(tmp_path):
    storage = LocalStorage(tmp_path)
    temp = storage.new_temp()
    temp.write_bytes(b"hello")
    stored = storage.put_file(temp, hashlib.sha256(b"hello").hexdigest())
    assert not temp.exists() and storage.size(stored.key) == 5
    assert storage.internal_path(stored.key) == f"{stored.key[:2]}/{stored.key[2:4]}/{stored.key}"
    assert storage.download_url(stored.key, "a.png", "image/png", 60) is None
    other = storage.put([b"x"])
    (tmp_path / "uploads").mkdir()
    (tmp_path / "ab").mkdir(exist_ok=True)
    (tmp_path / "ab" / "not-a-key").mkdir()
    assert sorted(storage.keys()) == sorted([stored.key, other.key])


def test_upload_store_expires_abandoned_uploads(tmp_path):
    store = UploadStore(tmp_path / "uploads", expiry_seconds=60)
    kept = store.create(1, 2, 3, 10, "a.mp4")
    gone = store.create(1, 2, 3, 10, "b.mp4")
    store.data_path(gone.id).write_bytes(b"12345")
    gone.expires = 0
    store.save(gone)
    assert store.expire() == [gone.id]
    assert store.get(gone.id) is None and not store.data_path(gone.id).exists()
    assert store.get(kept.id) is not None and store.offset(kept) == 0
    assert store.get("../../etc/passwd") is None
