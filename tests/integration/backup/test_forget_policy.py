"""Our retention policy keeps exactly the snapshots restic's `forget` keeps."""

from __future__ import annotations

import random

import pytest

from backup.archiver import Archiver
from backup.backends.base import FileType
from backup.forget import Policy, apply_policy
from backup.gotime import format_ns

POLICIES = [
    (Policy(last=3), ["--keep-last", "3"]),
    (Policy(hourly=5, daily=4), ["--keep-hourly", "5", "--keep-daily", "4"]),
    (
        Policy(daily=7, weekly=4, monthly=6, yearly=2),
        ["--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "6", "--keep-yearly", "2"],
    ),
    (Policy(last=2, tags=[["keep"]]), ["--keep-last", "2", "--keep-tag", "keep"]),
]


@pytest.mark.parametrize("policy,args", POLICIES)
def test_policy_matches_restic(local_repo, tmp_path, policy, args):
    repo, restic = local_repo
    src = tmp_path / "src"
    src.mkdir()
    repo.load_index()
    base_id = Archiver(repo).snapshot([str(src)]).snapshot_id
    base = repo.load_unpacked(FileType.SNAPSHOT, base_id)
    repo.backend.remove(FileType.SNAPSHOT, base_id)
    rng = random.Random(7)
    t = 1_700_000_000
    for i in range(60):
        t += rng.choice([600, 3_600, 5_000, 86_400, 3 * 86_400, 20 * 86_400])
        snap = {**base, "time": format_ns(t * 10**9)}
        if i % 9 == 0:
            snap["tags"] = ["keep"]
        repo.save_unpacked(FileType.SNAPSHOT, snap)
    keep, remove = apply_policy(list(repo.snapshots()), policy)
    report = restic.json("forget", "--dry-run", *args)
    assert sorted(s["id"] for s in report[0]["keep"]) == sorted(k for k, _ in keep)
    assert sorted(s["id"] for s in report[0]["remove"] or []) == sorted(r for r, _ in remove)


def test_forget_only_tagged_snapshots_via_cli(local_repo, tmp_path, password):
    from click.testing import CliRunner

    from backup.cli import cli

    repo, restic = local_repo
    src = tmp_path / "src"
    src.mkdir()
    repo.load_index()
    for tags in (["db"], ["db"], ["files"], ["db"]):
        Archiver(repo).snapshot([str(src)], tags=tags)
    pw = tmp_path / "pw"
    pw.write_text(password)
    env = {"EYESHOTS_BACKUP_REPOSITORY": restic.repo, "EYESHOTS_BACKUP_PASSWORD_FILE": str(pw)}
    out = CliRunner().invoke(cli, ["--json", "forget", "--tag", "db", "--keep-last", "1"], env=env)
    assert out.exit_code == 0, out.output
    left = restic.json("snapshots")
    assert sorted(tuple(s["tags"]) for s in left) == [("db",), ("files",)]
