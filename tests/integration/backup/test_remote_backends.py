"""S3 (moto's S3 server) and SFTP (OpenSSH sshd), both on loopback, judged by restic."""

from __future__ import annotations

import time

import pytest

from backup.archiver import Archiver
from backup.backends.base import BackendError, FileType
from backup.backends.url import open_backend
from backup.locks import Lock
from backup.prune import prune
from backup.repository import Repository
from backup.restorer import Restorer
from backup.snapshots import resolve_snapshot


@pytest.mark.parametrize("remote_repo", ["s3", "sftp"], indirect=True)
def test_remote_roundtrip_both_ways(remote_repo, dataset, tmp_path, tree_manifest, password):
    repo, restic, url, server = remote_repo
    repo.load_index()
    with Lock(repo):
        sid = Archiver(repo).snapshot([str(dataset)]).snapshot_id
    assert "no errors were found" in restic.run("check", "--read-data").stdout
    assert [s["id"] for s in restic.json("snapshots")] == [sid]
    target = tmp_path / "restic-out"
    restic.run("restore", sid, "--target", str(target))
    assert tree_manifest(target / dataset.relative_to("/")) == tree_manifest(dataset)

    (dataset / "added-by-restic").write_text("hello\n")
    restic.run("backup", str(dataset))
    reopened = Repository.open(open_backend(url, env=server.env), password.encode())
    reopened.load_index()
    _, snap = resolve_snapshot(reopened, "latest")
    ours = tmp_path / "ours"
    result = Restorer(reopened).restore(snap, str(ours), verify=True)
    assert result.errors == []
    assert tree_manifest(ours / dataset.relative_to("/")) == tree_manifest(dataset)

    restic.run("forget", "--keep-last", "1")
    with Lock(reopened, exclusive=True):
        prune(reopened, max_unused=0.0)
    restic.run("check", "--read-data")
    assert list(reopened.backend.list(FileType.LOCK)) == []


def test_unreachable_s3_retries_then_fails_clearly():
    port_with_nothing = 9  # discard port: nothing listens on loopback here
    backend = open_backend(
        f"s3:http://127.0.0.1:{port_with_nothing}/bucket/x",
        env={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"},
        attempts=3,
        base_delay=0.01,
    )
    start = time.monotonic()
    with pytest.raises(BackendError, match="failed after 3 attempts"):
        backend.load(FileType.CONFIG, "config")
    assert time.monotonic() - start < 30


def test_sftp_outage_fails_cleanly_and_leaves_no_lock(ssh_server, tmp_path, password, fast_kdf):
    url = f"sftp://root@127.0.0.1:{ssh_server.port}{tmp_path / 'repo'}"
    backend = open_backend(url, env=ssh_server.env, attempts=2, base_delay=0.01)
    repo = Repository.init(backend, password.encode(), fast_kdf)
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("data\n")
    ssh_server.stop()
    try:
        backend.inner.reset()  # drop the live connection, as a network outage would
        with pytest.raises(BackendError, match="failed after 2 attempts"):
            with Lock(repo):
                Archiver(repo).snapshot([str(src)])
    finally:
        ssh_server.start()
    assert list(repo.backend.list(FileType.LOCK)) == []
    repo.load_index()
    with Lock(repo):
        Archiver(repo).snapshot([str(src)])
    assert len(repo.list_ids(FileType.SNAPSHOT)) == 1


@pytest.mark.parametrize("remote_repo", ["s3", "sftp"], indirect=True)
def test_job_and_drill_against_remote(remote_repo, dataset, tmp_path, password):
    import json
    import sqlite3

    from click.testing import CliRunner

    from backup.cli import cli

    _, restic, url, server = remote_repo
    db = tmp_path / "app.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    pw = tmp_path / "pw"
    pw.write_text(password)
    env = {
        **server.env,
        "EYESHOTS_BACKUP_REPOSITORY": url,
        "EYESHOTS_BACKUP_PASSWORD_FILE": str(pw),
    }
    run = CliRunner().invoke(
        cli,
        [
            "--json",
            "run",
            "--sqlite",
            str(db),
            "--files",
            str(dataset),
            "--staging-dir",
            str(tmp_path / "st" / "staging"),
            "--state-dir",
            str(tmp_path / "st"),
            "--textfile-dir",
            str(tmp_path / "tf"),
            "--keep-daily",
            "7",
        ],
        env=env,
        catch_exceptions=False,
    )
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["check_ok"] is True
    drill = CliRunner().invoke(cli, ["--json", "restore-drill", "--textfile-dir", ""], env=env)
    assert drill.exit_code == 0, drill.output
    report = json.loads(drill.output)
    assert report["ok"] and report["sqlite_ok"] == [
        str((tmp_path / "st" / "staging" / "app.db").relative_to("/"))
    ]
    restic.run("check", "--read-data")
