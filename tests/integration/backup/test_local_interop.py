"""Repositories written by this engine pass restic's checks and restores, and vice versa."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from backup.archiver import Archiver
from backup.backends.local import LocalBackend
from backup.locks import Lock
from backup.repository import Repository
from backup.restorer import Restorer
from backup.snapshots import resolve_snapshot


def backup(repo: Repository, paths: list[str], **kw) -> str:
    repo.load_index()
    with Lock(repo):
        return Archiver(repo).snapshot(paths, **kw).snapshot_id


def test_restic_checks_and_restores_what_we_wrote(local_repo, dataset, tmp_path, tree_manifest):
    repo, restic = local_repo
    sid = backup(repo, [str(dataset)], tags=["nightly"])

    assert "no errors were found" in restic.run("check", "--read-data").stdout
    snaps = restic.json("snapshots")
    assert [s["id"] for s in snaps] == [sid]
    assert snaps[0]["paths"] == [str(dataset)] and snaps[0]["tags"] == ["nightly"]
    listed = restic.run("ls", sid).stdout.splitlines()
    assert str(dataset / "sub" / "deeper" / "small") in listed

    target = tmp_path / "restic-out"
    restic.run("restore", sid, "--target", str(target), "--verify")
    assert tree_manifest(target / dataset.relative_to("/")) == tree_manifest(dataset)


def test_we_restore_what_restic_wrote(local_repo, dataset, tmp_path, tree_manifest, password):
    _, restic = local_repo
    restic.run("backup", str(dataset))
    repo = Repository.open(LocalBackend(restic.repo), password.encode())
    repo.load_index()
    sid, snap = resolve_snapshot(repo, "latest")
    target = tmp_path / "ours"
    result = Restorer(repo).restore(snap, str(target), verify=True)
    assert result.errors == []
    assert tree_manifest(target / dataset.relative_to("/")) == tree_manifest(dataset)


def test_restore_of_selected_paths(local_repo, dataset, tmp_path):
    repo, _ = local_repo
    backup(repo, [str(dataset)])
    _, snap = resolve_snapshot(repo, "latest")
    target = tmp_path / "part"
    Restorer(repo).restore(snap, str(target), includes=[str(dataset / "sub")])
    restored = target / dataset.relative_to("/")
    assert (restored / "sub" / "deeper" / "small").read_bytes() == b"x" * 10
    assert not (restored / "text.txt").exists()


def test_second_backup_reuses_unchanged_files_and_restic_agrees(local_repo, dataset):
    repo, restic = local_repo
    backup(repo, [str(dataset)])
    (dataset / "new.txt").write_text("fresh\n")
    repo.load_index()
    with Lock(repo):
        summary = Archiver(repo).snapshot([str(dataset)])
    assert summary.files_new == 1 and summary.files_changed == 0
    assert summary.files_unmodified == summary.total_files_processed - 1
    assert summary.data_blobs == 1  # only the new file's blob was uploaded
    restic.run("check", "--read-data")
    # restic then backs up into the same repository, and the result still checks
    restic.run("backup", str(dataset))
    assert len(restic.json("snapshots")) == 3
    restic.run("check", "--read-data")


def test_several_paths_share_one_snapshot(local_repo, dataset, tmp_path):
    repo, restic = local_repo
    other = tmp_path / "other"
    other.mkdir()
    (other / "f").write_text("other\n")
    sid = backup(repo, [str(dataset / "sub"), str(other)])
    restic.run("check", "--read-data")
    target = tmp_path / "r"
    restic.run("restore", sid, "--target", str(target))
    assert (target / other.relative_to("/") / "f").read_text() == "other\n"
    assert (target / dataset.relative_to("/") / "sub" / "deeper" / "small").exists()


def test_large_file_spans_many_chunks(local_repo, tmp_path):
    repo, restic = local_repo
    src = tmp_path / "big"
    src.mkdir()
    data = Path(src / "f.bin")
    with open(data, "wb") as f:
        for i in range(40):
            f.write(bytes([i]) * 256 * 1024 + (i * 7919).to_bytes(4, "little") * 65536)
    backup(repo, [str(src)])
    restic.run("check", "--read-data")
    target = tmp_path / "out"
    restic.run("restore", "latest", "--target", str(target))
    assert (target / data.relative_to("/")).read_bytes() == data.read_bytes()


def test_repository_initialised_by_restic_v1_and_v2(
    tmp_path, dataset, restic_factory, password, tree_manifest
):
    for version in ("1", "2"):
        path = tmp_path / f"restic-v{version}"
        restic = restic_factory(str(path))
        restic.run("init", "--repository-version", version)
        restic.run("backup", str(dataset))
        repo = Repository.open(LocalBackend(path), password.encode())
        assert repo.version == int(version)
        sid = backup(repo, [str(dataset)])
        restic.run("check", "--read-data")
        target = tmp_path / f"out{version}"
        restic.run("restore", sid, "--target", str(target))
        assert tree_manifest(target / dataset.relative_to("/")) == tree_manifest(dataset)


def test_excludes_and_one_file_system(local_repo, dataset, tmp_path, restic_factory):
    repo, restic = local_repo
    mnt = dataset / "mounted"
    mnt.mkdir()
    (dataset / "cache.tmp").write_text("skip me\n")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    try:
        (mnt / "other-fs.txt").write_text("on another file system\n")
        repo.load_index()
        with Lock(repo):
            sid = (
                Archiver(
                    repo, excludes=["*.tmp", str(dataset / "sub" / "deeper")], one_file_system=True
                )
                .snapshot([str(dataset)])
                .snapshot_id
            )
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    listed = set(restic.run("ls", sid).stdout.splitlines())
    assert str(dataset / "text.txt") in listed
    assert str(dataset / "cache.tmp") not in listed
    assert str(dataset / "sub") in listed and str(dataset / "sub" / "deeper") not in listed
    assert not any("mounted" in p for p in listed)
    restic.run("check", "--read-data")


def test_unreadable_file_is_reported_and_the_rest_is_saved(local_repo, dataset, monkeypatch):
    # Tests run as root, for whom no permission bit makes a file unreadable; so the read of one
    # file is made to fail the way a vanished or EACCES file fails (OSError from open).
    repo, restic = local_repo
    real_open = open

    def flaky_open(path, *args, **kwargs):
        if os.fsdecode(path).endswith("text.txt") or os.fsdecode(path).endswith("random.bin"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", flaky_open)
    repo.load_index()
    with Lock(repo):
        summary = Archiver(repo).snapshot([str(dataset)])
    monkeypatch.undo()
    assert len(summary.errors) == 2 and all("Permission denied" in e for e in summary.errors)
    listed = restic.run("ls", summary.snapshot_id).stdout.splitlines()
    assert str(dataset / "empty") in listed and str(dataset / "text.txt") not in listed
    restic.run("check", "--read-data")


def test_restore_refuses_names_escaping_the_target(local_repo, tmp_path):
    from backup.pack import TREE
    from backup.tree import encode_tree
    from backup.writer import BlobWriter

    repo, _ = local_repo
    repo.load_index()
    writer = BlobWriter(repo)
    blob = writer.save_sync("data", b"owned\n").hex()
    evil = {
        "type": "file",
        "mode": 0o644,
        "mtime": "2026-01-01T00:00:00Z",
        "atime": "2026-01-01T00:00:00Z",
        "ctime": "2026-01-01T00:00:00Z",
        "uid": 0,
        "gid": 0,
        "size": 6,
        "content": [blob],
    }
    tree = writer.save_sync(
        TREE, encode_tree([{**evil, "name": "../escaped"}, {**evil, "name": "ok"}])
    )
    writer.flush()
    writer.close()
    target = tmp_path / "t" / "inner"
    result = Restorer(repo).restore({"tree": tree.hex()}, str(target))
    assert (target / "ok").read_text() == "owned\n"
    assert not (tmp_path / "t" / "escaped").exists()
    assert any("unsafe name" in e for e in result.errors)
