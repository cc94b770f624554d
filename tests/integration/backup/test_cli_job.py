"""The `eyeshots backup` commands and the nightly job, end to end, with restic as the judge."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backup.cli import cli


def make_app_data(root: Path) -> tuple[Path, Path, sqlite3.Connection]:
    db = root / "var" / "eyeshots.db"
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    con.executemany("INSERT INTO photos(name) VALUES (?)", [(f"p{i}.jpg",) for i in range(500)])
    con.commit()
    files = root / "files"
    (files / "2026").mkdir(parents=True)
    (files / "2026" / "a.jpg").write_bytes(os.urandom(700_000))
    (files / "b.txt").write_text("client notes\n")
    return db, files, con


def job_args(tmp_path: Path, db: Path, files: Path) -> list[str]:
    return [
        "run",
        "--sqlite",
        str(db),
        "--files",
        str(files),
        "--staging-dir",
        str(tmp_path / "state" / "staging"),
        "--state-dir",
        str(tmp_path / "state"),
        "--textfile-dir",
        str(tmp_path / "textfile"),
        "--keep-last",
        "2",
        "--check-read-parts",
        "2",
    ]


def metrics(tmp_path: Path) -> dict[str, float]:
    """Every series in the textfile directory, parsed as the exporter parses it."""
    from monitoring.exporter.collectors.textfile import parse_textfile

    out = {}
    for path in sorted((tmp_path / "textfile").glob("*.prom")):
        for name, family in parse_textfile(path.read_text()).items():
            assert family.type == "gauge"
            for _, labels, value in family.samples:
                assert labels == {"repository": "local"}
                assert name not in out, f"{name} written twice"
                out[name] = value
    return out


def test_job_backs_up_live_sqlite_and_files(local_repo, env, tmp_path, invoke):
    _, restic = local_repo
    db, files, con = make_app_data(tmp_path / "app")
    # a row written by the live app but still only in the WAL must be in the copy
    con.execute("INSERT INTO photos(name) VALUES ('in-wal.jpg')")
    con.commit()
    for round_ in range(3):
        (files / f"round{round_}.txt").write_text(f"{round_}\n")
        out = invoke(env, "--json", *job_args(tmp_path, db, files))
        report = json.loads(out.output)
        assert report["errors"] == [] and report["checked"] == (round_ == 0)
    assert report["snapshots"] == 2  # --keep-last 2 applied by the job
    m = metrics(tmp_path)
    assert m["eyeshots_backup_last_run_success"] == 1
    assert m["eyeshots_backup_snapshots"] == 2
    assert m["eyeshots_backup_last_success_timestamp_seconds"] > 1.7e9
    assert m["eyeshots_backup_last_check_success"] == 1
    assert m["eyeshots_backup_last_added_bytes"] > 0
    assert m["eyeshots_backup_last_processed_bytes"] > 0
    assert sorted(p.name for p in (tmp_path / "textfile").iterdir()) == [
        "eyeshots_backup_local.prom",  # monitoring's contract (TEXTFILE_METRICS.md)
        "eyeshots_backup_repo_local.prom",
    ]

    assert "no errors were found" in restic.run("check", "--read-data").stdout
    target = tmp_path / "restored"
    restic.run("restore", "latest", "--target", str(target))
    staged = target / (tmp_path / "state" / "staging" / "eyeshots.db").relative_to("/")
    restored = sqlite3.connect(staged)
    assert restored.execute("SELECT count(*) FROM photos").fetchone()[0] == 501
    assert (target / files.relative_to("/") / "round2.txt").read_text() == "2\n"
    assert not (tmp_path / "state" / "staging").exists()  # no database copies left lying around

    drill = json.loads(
        invoke(env, "--json", "restore-drill", "--textfile-dir", str(tmp_path / "textfile")).output
    )
    assert drill["ok"] and drill["verified"] == drill["files"] and drill["sqlite_ok"]
    assert metrics(tmp_path)["eyeshots_backup_restore_drill_success"] == 1


def test_job_failure_is_visible_in_metrics(local_repo, env, tmp_path, invoke):
    db, files, _ = make_app_data(tmp_path / "app")
    invoke(env, *job_args(tmp_path, db, files))
    first = metrics(tmp_path)
    bad = {**env, "EYESHOTS_BACKUP_PASSWORD_FILE": str(tmp_path / "wrong")}
    (tmp_path / "wrong").write_text("not it\n")
    result = CliRunner().invoke(cli, job_args(tmp_path, db, files), env=bad)
    assert result.exit_code == 1
    assert "wrong password" in result.output and len(result.output.strip().splitlines()) == 1
    after = metrics(tmp_path)
    assert after["eyeshots_backup_last_run_success"] == 0
    assert (
        after["eyeshots_backup_last_success_timestamp_seconds"]
        == first["eyeshots_backup_last_success_timestamp_seconds"]
    )


def test_commands_agree_with_restic(local_repo, env, dataset, tmp_path, invoke):
    _, restic = local_repo
    invoke(env, "run", str(dataset), "--textfile-dir", "", "--state-dir", str(tmp_path / "s"))
    restic.run("backup", str(dataset))
    ours = json.loads(invoke(env, "--json", "snapshots").output)
    assert [s["id"] for s in ours] == [s["id"] for s in restic.json("snapshots")]
    listing = json.loads(invoke(env, "--json", "ls", "latest").output)
    ours_paths = [n["path"] for n in listing["nodes"]]
    restic_paths = [
        json.loads(line)["path"]
        for line in restic.run("ls", "--json", "latest").stdout.splitlines()[1:]
    ]
    assert ours_paths == restic_paths

    target = tmp_path / "part"
    invoke(
        env,
        "restore",
        "latest",
        "--target",
        str(target),
        "--include",
        str(dataset / "sub"),
        "--verify",
    )
    assert (target / dataset.relative_to("/") / "sub" / "deeper" / "small").exists()
    assert not (target / dataset.relative_to("/") / "random.bin").exists()

    out = json.loads(invoke(env, "--json", "forget", "--keep-last", "1", "--prune").output)
    assert len(out["remove"]) == 1 and out["prune"] is not None
    assert "no errors were found" in invoke(env, "check", "--read-data").output
    restic.run("check", "--read-data")

    newpw = tmp_path / "newpw"
    newpw.write_text("another one\n")
    invoke(env, "key", "add", "--new-password-file", str(newpw))
    keys = json.loads(invoke(env, "--json", "key", "list").output)
    assert len(keys) == 2
    restic.env["RESTIC_PASSWORD"] = "another one"
    restic.run("snapshots")
    other = next(k["id"] for k in keys if not k["current"])
    invoke(env, "key", "remove", other[:12])
    assert json.loads(invoke(env, "--json", "unlock").output) == {"removed": []}


@pytest.mark.parametrize(
    "args,env_over,message",
    [
        (["snapshots"], {"EYESHOTS_BACKUP_REPOSITORY": "ftp:x"}, "unknown backend"),
        (["snapshots"], {"EYESHOTS_BACKUP_PASSWORD_FILE": "/nonexistent/pw"}, "password file"),
        (["restore", "deadbeef", "--target", "/tmp/x"], {}, "no match"),
        (["init"], {}, "already initialized"),
        (
            ["snapshots"],
            {
                "EYESHOTS_BACKUP_REPOSITORY": "s3:http://127.0.0.1:9/b/p",
                "AWS_ACCESS_KEY_ID": None,
                "AWS_SECRET_ACCESS_KEY": None,
            },
            "AWS_ACCESS_KEY_ID",
        ),
    ],
)
def test_bad_input_one_line_error(local_repo, env, args, env_over, message):
    result = CliRunner().invoke(cli, args, env={**env, **env_over})
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output


def test_entry_point_and_init(tmp_path, password, restic_factory):
    exe = Path(sys.executable).parent / "eyeshots"
    pw = tmp_path / "pw"
    pw.write_text(password)
    repo = tmp_path / "new"
    env = {**os.environ, "EYESHOTS_BACKUP_PASSWORD_FILE": str(pw)}
    proc = subprocess.run(
        [str(exe), "backup", "-r", str(repo), "--json", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["message_type"] == "initialized"
    restic_factory(str(repo)).run("check")
