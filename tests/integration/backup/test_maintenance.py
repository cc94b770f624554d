"""forget, prune, check, keys and locks, with restic as the judge of the result."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from backup.archiver import Archiver
from backup.backends.base import FileType
from backup.backends.local import LocalBackend
from backup.check import check
from backup.forget import Policy, apply_policy
from backup.keys import add_key, list_keys, remove_key
from backup.locks import Lock, LockConflict, list_locks, remove_locks
from backup.prune import prune
from backup.repository import Repository, WrongPassword
from backup.restorer import Restorer
from backup.snapshots import resolve_snapshot


def snapshot(repo: Repository, path, **kw) -> str:
    repo.load_index()
    with Lock(repo):
        return Archiver(repo).snapshot([str(path)], **kw).snapshot_id


def test_forget_and_prune_then_restic_checks_and_restores(local_repo, tmp_path):
    repo, restic = local_repo
    src = tmp_path / "src"
    src.mkdir()
    keep_bytes = os.urandom(3_000_000)
    (src / "keep.bin").write_bytes(keep_bytes)
    ids = []
    for i in range(4):
        # each generation adds a file and drops the previous one: old data becomes garbage
        (src / f"gen{i}.bin").write_bytes(os.urandom(1_500_000))
        if i:
            (src / f"gen{i - 1}.bin").unlink()
        ids.append(snapshot(repo, src, time_ns=(1_700_000_000 + i * 86_400) * 10**9))
    snaps = list(repo.snapshots())
    keep, remove = apply_policy(snaps, Policy(last=1))
    assert [k[0] for k in keep] == [ids[-1]]
    with Lock(repo, exclusive=True):
        for sid, _ in remove:
            repo.backend.remove(FileType.SNAPSHOT, sid)
        size_before = sum(s for _, s in repo.backend.list(FileType.PACK))
        result = prune(repo, max_unused=0.0)
    size_after = sum(s for _, s in repo.backend.list(FileType.PACK))
    assert result.packs_repacked + result.packs_removed > 0
    assert size_after < size_before - 3 * 1_400_000
    assert "no errors were found" in restic.run("check", "--read-data").stdout
    target = tmp_path / "out"
    restic.run("restore", "latest", "--target", str(target))
    restored = target / src.relative_to("/")
    assert (restored / "keep.bin").read_bytes() == keep_bytes
    assert sorted(p.name for p in restored.iterdir()) == ["gen3.bin", "keep.bin"]
    assert check(repo, read_data=True).ok


def test_we_prune_what_restic_wrote_and_restic_prunes_ours(local_repo, dataset, password):
    repo, restic = local_repo
    restic.run("backup", str(dataset))
    snapshot(repo, dataset)
    (dataset / "random.bin").unlink()
    restic.run("backup", str(dataset))
    restic.run("forget", "--keep-last", "1")
    repo = Repository.open(LocalBackend(restic.repo), password.encode())
    with Lock(repo, exclusive=True):
        prune(repo, max_unused=0.0)
    restic.run("check", "--read-data")
    snapshot(repo, dataset)
    restic.run("forget", "--keep-last", "1", "--prune")
    restic.run("check", "--read-data")
    assert check(repo, read_data=True).ok


def test_check_names_corrupted_pack_and_other_files_still_restore(local_repo, tmp_path):
    repo, _ = local_repo
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(20_000_000))  # exceeds one 16 MiB pack
    (src / "b.txt").write_text("unaffected\n")
    snapshot(repo, src)
    packs = {p: s for p, s in repo.backend.list(FileType.PACK)}
    victim = next(
        p
        for p, _ in repo.index.packs.items()
        if repo.index.packs[p][0].type == "data"
        and any(b.length > 1_000_000 for b in repo.index.packs[p])
    )
    path = repo.backend._path(FileType.PACK, victim)
    os.chmod(path, 0o600)
    with open(path, "r+b") as f:
        f.seek(100)
        f.write(b"\x00" * 16)
    result = check(repo, read_data=True)
    assert not result.ok and all(victim in e for e in result.errors)
    assert len(packs) >= 2
    _, snap = resolve_snapshot(repo, "latest")
    out = Restorer(repo).restore(snap, str(tmp_path / "out"), verify=True)
    assert (tmp_path / "out" / src.relative_to("/") / "b.txt").read_text() == "unaffected\n"
    assert any("a.bin" in e for e in out.errors)


def test_keys_add_list_remove_with_restic(local_repo, password, fast_kdf):
    repo, restic = local_repo
    new_id = add_key(repo, b"second password", params=fast_kdf)
    assert {k["id"] for k in list_keys(repo)} == {repo.key_id, new_id}
    restic.env["RESTIC_PASSWORD"] = "second password"
    assert len(restic.json("key", "list")) == 2
    other = Repository.open(LocalBackend(restic.repo), b"second password")
    with pytest.raises(ValueError):
        remove_key(other, new_id[:8])
    remove_key(other, repo.key_id[:10])
    with pytest.raises(WrongPassword):
        Repository.open(LocalBackend(restic.repo), password.encode())
    restic.run("snapshots")
    # and a key restic adds (with its own calibrated scrypt parameters) opens here
    third = restic.repo + "-third-password"
    Path(third).write_text("third one\n")
    restic.run("key", "add", "--new-password-file", third)
    opened = Repository.open(LocalBackend(restic.repo), b"third one")
    # restic 0.14 stores the MAC's r already clamped; Poly1305 clamps anyway, so only the
    # AES keys must match exactly
    assert (opened.key.encrypt, opened.key.mac_k) == (other.key.encrypt, other.key.mac_k)


def test_wrong_password_is_clear_and_writes_nothing(local_repo):
    repo, _ = local_repo
    before = sorted(p for p in os.listdir(repo.backend.root / "keys"))
    with pytest.raises(WrongPassword, match="wrong password"):
        Repository.open(repo.backend, b"nope")
    assert sorted(os.listdir(repo.backend.root / "keys")) == before
    assert list(repo.backend.list(FileType.LOCK)) == []


def test_lock_semantics_against_restic(local_repo, dataset):
    repo, restic = local_repo
    with Lock(repo):
        # restic's exclusive operations refuse to run next to our non-exclusive lock
        assert restic.run("prune", check=False).returncode != 0
        # but another non-exclusive one (a backup) proceeds
        restic.run("backup", str(dataset))
    with Lock(repo, exclusive=True):
        with pytest.raises(LockConflict):
            Lock(repo).acquire()
        assert restic.run("backup", str(dataset), check=False).returncode != 0
    assert list_locks(repo) == []


def test_lock_is_refreshed_and_stale_locks_are_removed_by_unlock(local_repo):
    repo, restic = local_repo
    lock = Lock(repo, refresh=0.05).acquire()
    first = lock.id
    deadline = time.monotonic() + 10
    while lock.id == first and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lock.id != first and [lk.id for lk in list_locks(repo)] == [lock.id]
    lock._stop.set()
    lock._thread.join()
    # a lock left behind by a dead process on this host is stale
    repo.save_unpacked(
        FileType.LOCK,
        {
            "time": "2026-01-01T00:00:00Z",
            "exclusive": True,
            "hostname": "h",
            "username": "u",
            "pid": 1,
        },
    )
    assert len(list_locks(repo)) == 2
    removed = remove_locks(repo)
    assert len(removed) == 1 and [lk.id for lk in list_locks(repo)] == [lock.id]
    lock.release()
    restic.run("check")


def test_backup_stops_when_its_lock_could_not_be_refreshed(local_repo, tmp_path):
    from backup.locks import STALE_AFTER, LockLost

    repo, restic = local_repo
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(os.urandom(100_000))
    repo.load_index()
    lock = Lock(repo).acquire()
    try:
        # as if refreshes had failed for 30 minutes (standby, network outage)
        lock.last_refresh -= STALE_AFTER
        with pytest.raises(LockLost):
            Archiver(repo).snapshot([str(src)])
    finally:
        lock.release()
    assert repo.list_ids(FileType.SNAPSHOT) == []
    restic.run("check")


def test_read_data_subsets_cover_every_pack_once(local_repo, tmp_path):
    repo, _ = local_repo
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        (src / f"f{i}").write_bytes(os.urandom(5_000_000))
    snapshot(repo, src)
    total = len(repo.index.packs)
    parts = [check(repo, subset=f"{n}/3").packs_read for n in (1, 2, 3)]
    assert sum(parts) == total and all(r.ok for r in [check(repo, subset="1/3")])
    with pytest.raises(ValueError, match="n/t"):
        check(repo, subset="4/3")


def test_prune_refuses_when_needed_packs_are_missing(local_repo, tmp_path):
    from backup.repository import RepositoryError

    repo, _ = local_repo
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(os.urandom(1_000_000))
    snapshot(repo, src)
    data_pack = next(p for p, blobs in repo.index.packs.items() if blobs[0].type == "data")
    repo.backend.remove(FileType.PACK, data_pack)
    before = sorted(os.listdir(repo.backend.root / "index"))
    with pytest.raises(RepositoryError, match="missing packs"):
        prune(repo)
    assert sorted(os.listdir(repo.backend.root / "index")) == before


def test_deferred_lock_check_stops_the_first_write_next_to_an_exclusive_lock(local_repo, dataset):
    repo, restic = local_repo
    with Lock(repo, exclusive=True):
        # returns right after writing its lock file; the walk may start meanwhile
        lock = Lock(repo, defer_check=True).acquire()
        repo.load_index()
        with pytest.raises(LockConflict):
            Archiver(repo).snapshot([str(dataset)])
        assert lock.id is None  # released on the conflict
        assert len(list_locks(repo)) == 1
        lock.release()
    # nothing reached the repository: no pack, no index, no snapshot
    for ftype in (FileType.PACK, FileType.INDEX, FileType.SNAPSHOT):
        assert repo.list_ids(ftype) == []
    restic.run("check")


def test_unchanged_directories_reuse_the_parent_trees(local_repo, dataset):
    repo, restic = local_repo
    snapshot(repo, dataset)
    # the first backup's reads may move directory atimes (relatime): settle them
    second = snapshot(repo, dataset)
    repo.load_index()
    with Lock(repo):
        summary = Archiver(repo).snapshot([str(dataset)])
    assert (summary.data_blobs, summary.tree_blobs) == (0, 0)
    trees = [
        repo.load_unpacked(FileType.SNAPSHOT, s)["tree"] for s in (second, summary.snapshot_id)
    ]
    assert trees[0] == trees[1]
    restic.run("check")
