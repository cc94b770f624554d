"""`eyeshots files verify|cleanup|serve` as an operator runs them."""

from __future__ import annotations

import json
import time

from eyeshots_cli import eyeshots

from app.files.uploads import UploadStore
from app.models import FileVersion

from .conftest import make_env, prepare


def test_verify_reports_damaged_missing_and_orphaned_files(tmp_path):
    app, world = prepare(tmp_path)
    env = make_env(tmp_path)
    ok = eyeshots("files", "verify", env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "all stored files match" in ok.stdout
    storage = app.state.storage
    with app.state.sessionmaker() as db:
        key = db.get(FileVersion, world.version).storage_key
    storage.path(key).write_bytes(b"bit rot")
    orphan = storage.put([b"left behind"])
    bad = eyeshots("files", "verify", env=env, timeout=120)
    assert bad.returncode == 1
    assert f"mismatch: {key} (version {world.version}" in bad.stdout
    assert f"orphan: {orphan.key} (11 bytes" in bad.stdout
    assert bad.stderr.strip().endswith("2 problem(s) found")
    storage.delete(key)
    assert f"missing: {key}" in eyeshots("files", "verify", env=env, timeout=120).stdout
    app.state.engine.dispose()


def test_cleanup_removes_only_expired_uploads(tmp_path):
    env = make_env(tmp_path)
    store = UploadStore(tmp_path / "files" / "uploads", 3600)
    fresh = store.create(1, 1, 1, 10, "a.png")
    old = store.create(1, 1, 1, 10, "b.png")
    meta = tmp_path / "files" / "uploads" / f"{old.id}.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "expires": time.time() - 1}))
    done = eyeshots("files", "cleanup", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "removed 1 expired upload(s)" in done.stdout
    assert store.get(fresh.id) is not None and store.get(old.id) is None


def test_serve_without_keys_is_a_one_line_error(tmp_path):
    env = {**make_env(tmp_path), "EYESHOTS_FILE_TOKEN_KEYS": "k1:short"}
    done = eyeshots("files", "serve", "--port", "1", env=env, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("Error: file token key 'k1'")
    missing = eyeshots("files", "serve", env={**make_env(tmp_path),
                       "EYESHOTS_FILE_TOKEN_KEYS": "", "EYESHOTS_FILE_TOKEN_KEYS_FILE": ""},
                       timeout=60)  # fmt: skip
    assert "no file token keys" in missing.stderr


def test_verify_with_an_unreachable_database_is_a_one_line_error(tmp_path):
    env = {**make_env(tmp_path), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    done = eyeshots("files", "verify", env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("Error: cannot read the database (")
    assert len(done.stderr.strip().splitlines()) == 1
