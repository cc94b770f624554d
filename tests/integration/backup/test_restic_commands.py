"""The commands a restic user reaches for, run by both tools on one repository: same answers."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from backup.cli import cli

EYESHOTS = str(Path(sys.executable).parent / "eyeshots")


@pytest.fixture
def two_snapshots(local_repo, env, dataset, tmp_path, invoke):
    """restic's snapshot of the dataset, then ours after some changes."""
    _, restic = local_repo
    restic.run("backup", str(dataset))
    (dataset / "text.txt").write_text("changed\n")
    (dataset / "sub" / "deeper" / "small").unlink()
    (dataset / "new").mkdir()
    (dataset / "new" / "file.bin").write_bytes(os.urandom(3000))
    os.chmod(dataset / "random.bin", 0o600)
    invoke(env, "run", "--textfile-dir", "", "--state-dir", str(tmp_path / "st"), str(dataset))
    ids = [s["id"] for s in restic.json("snapshots")]
    return restic, ids


def ours(env: dict, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_find_matches_restic(two_snapshots, env):
    restic, _ = two_snapshots
    for args in (["*.txt"], ["deeper"], ["*.bin", "link"], ["-i", "TEXT.TXT"], ["sub/*"]):
        theirs = json.loads(restic.run("find", "--json", *args).stdout)
        mine = json.loads(ours(env, "--json", "find", *args))
        as_set = [
            {(r["snapshot"], m["path"]) for r in report for m in r["matches"]}
            for report in (theirs, mine)
        ]
        assert as_set[0] == as_set[1] and as_set[0], args


def test_diff_matches_restic(two_snapshots, env):
    restic, (first, second) = two_snapshots
    for extra in ([], ["--metadata"]):
        lines = restic.run("diff", "--json", *extra, first, second).stdout.splitlines()
        theirs = {
            (m["modifier"], m["path"])
            for m in map(json.loads, lines)
            if m.get("message_type") == "change"
        }
        mine = {
            (c["modifier"], c["path"])
            for c in json.loads(ours(env, "--json", "diff", *extra, first, second))
        }
        assert mine == theirs and theirs, extra


def test_dump_cat_and_stats_match_restic(two_snapshots, env, dataset):
    restic, (first, second) = two_snapshots
    path = str(dataset / "random.bin")
    for snap in (first, second):
        theirs = subprocess.run(
            [restic.bin, "-r", restic.repo, "--no-cache", "dump", snap, path],
            env=restic.env,
            capture_output=True,
            check=True,
        ).stdout
        mine = subprocess.run(
            [EYESHOTS, "backup", "dump", snap, path],
            env={**os.environ, **env},
            capture_output=True,
            check=True,
        ).stdout
        assert mine == theirs == (dataset / "random.bin").read_bytes()
    tars = []
    for cmd, e in (
        (
            [restic.bin, "-r", restic.repo, "--no-cache", "dump", second, str(dataset / "sub")],
            restic.env,
        ),
        ([EYESHOTS, "backup", "dump", second, str(dataset / "sub")], {**os.environ, **env}),
    ):
        data = subprocess.run(cmd, env=e, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tars.append({m.name.lstrip("/"): (m.type, m.size) for m in tar.getmembers()})
    assert tars[0] == tars[1] and tars[0]

    tree = restic.json("cat", "snapshot", second)["tree"]
    for args in (["config"], ["snapshot", first], ["masterkey"], ["blob", tree]):
        assert json.loads(ours(env, "cat", *args)) == json.loads(restic.run("cat", *args).stdout)
    by_path = json.loads(ours(env, "cat", "tree", f"{second}:{dataset.parent}"))
    assert [n["name"] for n in by_path["nodes"]] == ["src"]

    for mode in ("restore-size", "files-by-contents", "blobs-per-file", "raw-data"):
        for snaps in ([], [first]):
            theirs = restic.json("stats", "--mode", mode, *snaps)
            mine = json.loads(ours(env, "--json", "stats", "--mode", mode, *snaps))
            assert mine == theirs, (mode, snaps)


def test_ls_dirs_matches_restic(two_snapshots, env, dataset):
    restic, _ = two_snapshots
    for extra in ([], ["--recursive"]):
        for dirs in ([str(dataset / "sub")], [str(dataset / "sub"), str(dataset / "new")]):
            lines = restic.run("ls", *extra, "latest", *dirs).stdout.splitlines()
            theirs = [line for line in lines if not line.startswith("snapshot ")]  # its header
            mine = ours(env, "ls", *extra, "latest", *dirs).splitlines()
            assert mine == theirs and theirs, (extra, dirs)


def test_tag_matches_restic(two_snapshots, env, tmp_path):
    restic, (first, _) = two_snapshots
    copy = tmp_path / "copy"
    shutil.copytree(restic.repo, copy)
    twin = restic.__class__(str(copy))
    for args in (["--add", "a,b", first], ["--remove", "a"], ["--set", "x"]):
        ours(env, "tag", *args)
        twin.run("tag", *args)
        mine = sorted(
            (s.get("original", s["id"]), tuple(s.get("tags") or []))
            for s in restic.json("snapshots")
        )
        theirs = sorted(
            (s.get("original", s["id"]), tuple(s.get("tags") or [])) for s in twin.json("snapshots")
        )
        assert mine == theirs, args
    restic.run("check")


def test_no_lock_reads_a_read_only_repository(two_snapshots, env, tmp_path):
    restic, _ = two_snapshots
    for dirpath, _, _ in os.walk(restic.repo):
        os.chmod(dirpath, 0o500)
    drop = "-dac_override,-dac_read_search"
    setpriv = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}"]
    e = {**os.environ, **env}
    try:
        locked = subprocess.run(
            [*setpriv, EYESHOTS, "backup", "restore", "latest", "-t", str(tmp_path / "a")],
            env=e,
            capture_output=True,
            text=True,
        )
        assert locked.returncode == 1 and "locks" in locked.stderr, locked.stderr
        for cmd in (["restore", "latest", "-t", str(tmp_path / "b")], ["check"], ["ls", "latest"]):
            proc = subprocess.run(
                [*setpriv, EYESHOTS, "backup", "--no-lock", *cmd],
                env=e,
                capture_output=True,
                text=True,
            )
            assert proc.returncode == 0, proc.stderr
        theirs = subprocess.run(
            [*setpriv, restic.bin, "-r", restic.repo, "--no-cache", "--no-lock", "check"],
            env=restic.env,
            capture_output=True,
            text=True,
        )
        assert theirs.returncode == 0, theirs.stderr
    finally:
        for dirpath, _, _ in os.walk(restic.repo):
            os.chmod(dirpath, 0o700)


def test_backup_options(local_repo, env, tmp_path, invoke):
    repo, restic = local_repo
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_text("a")
    (src / "b").write_text("b")
    listing = tmp_path / "list"
    listing.write_text(f"# the files\n{src / 'a'}\n\n")
    common = ["--textfile-dir", "", "--state-dir", str(tmp_path / "st")]
    packs_before = sorted((Path(restic.repo) / "data").rglob("*"))
    dry = json.loads(invoke(env, "--json", "backup", "--dry-run", *common, str(src)).output)
    assert dry["files"] == 2 and dry["bytes_added"] > 0
    assert restic.json("snapshots") == []
    assert sorted((Path(restic.repo) / "data").rglob("*")) == packs_before

    invoke(env, "backup", "--time", "2024-02-03 04:05:06", "--files-from", str(listing), *common)
    (snap,) = restic.json("snapshots")
    assert snap["paths"] == [str(src / "a")] and snap["time"].startswith("2024-02-03T04:05:06")
    first = snap["id"]
    invoke(env, "backup", *common, str(src))
    forced = json.loads(invoke(env, "--json", "backup", "--force", *common, str(src)).output)
    assert forced["files"] == 2
    parented = json.loads(
        invoke(env, "--json", "backup", "--parent", first, *common, str(src)).output
    )
    latest = restic.json("snapshots")[-1]
    assert latest["parent"] == first and parented["snapshot_id"] == latest["id"]
    assert "eyeshots backup" in invoke(env, "version").output


def test_copy_matches_restic(two_snapshots, env, tmp_path, password, fast_kdf):
    from backup.backends.local import LocalBackend
    from backup.repository import Repository

    restic, ids = two_snapshots
    dest = tmp_path / "dest"
    Repository.init(LocalBackend(dest), password.encode(), fast_kdf)
    pw = env["EYESHOTS_BACKUP_PASSWORD_FILE"]
    into = {**env, "EYESHOTS_BACKUP_REPOSITORY": str(dest)}
    ours(into, "copy", "--from-repo", restic.repo, "--from-password-file", pw, ids[0])
    ours(into, "copy", "--from-repo", restic.repo, "--from-password-file", pw)  # the rest
    twin = restic.__class__(str(dest))
    assert "no errors were found" in twin.run("check", "--read-data").stdout
    copied = twin.json("snapshots")
    assert sorted(s["original"] for s in copied) == sorted(ids)
    # restic's own copy afterwards finds nothing left to copy
    env_from = {"RESTIC_FROM_PASSWORD_FILE": pw}
    twin.env.update(env_from)
    out = twin.run("copy", "--from-repo", restic.repo).stdout
    assert len(twin.json("snapshots")) == 2, out
    target = tmp_path / "out"
    twin.run("restore", "latest", "--target", str(target))


def test_restore_picks_snapshots_as_restic_does(local_repo, env, tmp_path, invoke):
    _, restic = local_repo
    src = tmp_path / "src"
    src.mkdir()
    for host, tags in (("h1", "a,b"), ("h2", "a"), ("h1", "c")):
        (src / "who").write_text(f"{host} {tags}\n")
        restic.run("backup", "--host", host, "--tag", tags, str(src))
    rel = (src / "who").relative_to("/")
    for args in (["--host", "h2"], ["--tag", "a,b"], ["--host", "h1"], ["--path", str(src)]):
        theirs, mine = tmp_path / "r", tmp_path / "e"
        shutil.rmtree(theirs, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
        restic.run("restore", "latest", "--target", str(theirs), *args)
        invoke(env, "restore", "latest", "-t", str(mine), *args)
        assert (mine / rel).read_text() == (theirs / rel).read_text(), args
