"""Our retention policy keeps exactly the snapshots restic's `forget` keeps."""

from __future__ import annotations

import json
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


# restic's snapshot selection and retention options, each run by both tools on one snapshot set
SELECTIONS = [
    ["--keep-tag", "a,b"],
    ["--keep-tag", "a,b", "--keep-tag", "c"],
    ["--tag", "a,b", "--keep-last", "1"],
    ["--tag", "a", "--tag", "c", "--keep-last", "2"],
    ["--host", "h1", "--keep-last", "2"],
    ["--host", "h1", "--host", "h2", "--keep-daily", "3"],
    ["--path", "/srv/a", "--keep-last", "1"],
    ["--group-by", "host", "--keep-last", "2"],
    ["--group-by", "paths", "--keep-last", "1"],
    ["--group-by", "tags", "--keep-last", "1"],
    ["--group-by", "host,tags", "--keep-weekly", "2"],
    ["--group-by", "", "--keep-last", "3"],
    ["--keep-within", "10d"],
    ["--keep-within", "1m2d"],
    ["--keep-within", "3m"],
    ["--keep-within-daily", "7d", "--keep-within-weekly", "2m"],
    ["--keep-within-hourly", "2d", "--keep-within-monthly", "1y"],
    ["--keep-within-yearly", "5y", "--keep-last", "1"],
    ["--keep-monthly", "3", "--keep-tag", "c"],
]
LISTINGS = [
    ["--tag", "a,b"],
    ["--tag", "a", "--tag", "c"],
    ["--host", "h2"],
    ["--path", "/srv/a"],
    ["--path", "/srv/a", "--path", "/srv/b"],
    ["--latest", "1"],
    ["--latest", "2", "--host", "h1"],
]


@pytest.fixture(scope="module")
def snapshot_set(tmp_path_factory, password, restic_factory):
    """70 snapshots over ~2 years: three hosts, two path sets, tag combinations."""
    from backup.backends.local import LocalBackend
    from backup.crypto import KDFParams
    from backup.repository import Repository

    root = tmp_path_factory.mktemp("retention")
    repo = Repository.init(LocalBackend(root / "repo"), password.encode(), KDFParams(1024, 8, 1))
    src = root / "src"
    src.mkdir()
    repo.load_index()
    base_id = Archiver(repo).snapshot([str(src)]).snapshot_id
    base = repo.load_unpacked(FileType.SNAPSHOT, base_id)
    repo.backend.remove(FileType.SNAPSHOT, base_id)
    rng = random.Random(14)
    t = 1_720_000_000
    tag_sets = [[], ["a"], ["a", "b"], ["b"], ["c"], ["a", "b", "c"]]
    for _ in range(70):
        t += rng.choice([1_800, 3_600, 20_000, 86_400, 4 * 86_400, 12 * 86_400])
        snap = {
            **base,
            "time": format_ns(t * 10**9),
            "hostname": rng.choice(["h1", "h2", "h3"]),
            "paths": rng.choice([["/srv/a"], ["/srv/a", "/srv/b"]]),
        }
        tags = rng.choice(tag_sets)
        snap.pop("tags", None)
        if tags:
            snap["tags"] = tags
        repo.save_unpacked(FileType.SNAPSHOT, snap)
    pw = root / "pw"
    pw.write_text(password)
    env = {
        "EYESHOTS_BACKUP_REPOSITORY": str(root / "repo"),
        "EYESHOTS_BACKUP_PASSWORD_FILE": str(pw),
    }
    return restic_factory(str(root / "repo")), env


def _ids(groups: list | None, key: str) -> list[str]:
    return sorted(s["id"] for g in groups or [] for s in g.get(key) or [])


@pytest.mark.parametrize("args", SELECTIONS, ids=lambda a: " ".join(a))
def test_forget_selection_and_grouping_match_restic(snapshot_set, args, invoke):
    restic, env = snapshot_set
    theirs = restic.json("forget", "--dry-run", *args)
    ours = json.loads(invoke(env, "--json", "forget", "--dry-run", *args).output)
    assert sorted(ours["remove"]) == _ids(theirs, "remove")
    assert sorted(ours["keep"]) == _ids(theirs, "keep")
    assert ours["keep"] and ours["remove"], "each case must split the set to prove anything"


@pytest.mark.parametrize("args", LISTINGS, ids=lambda a: " ".join(a))
def test_snapshot_listing_filters_match_restic(snapshot_set, args, invoke):
    restic, env = snapshot_set
    theirs = sorted(s["id"] for s in restic.json("snapshots", *args))
    ours = sorted(s["id"] for s in json.loads(invoke(env, "--json", "snapshots", *args).output))
    assert ours == theirs
