"""The job's PostgreSQL path: pg_dump of a real server, restorable from the snapshot."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from backup.cli import cli


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL not installed: apt-get install postgresql")
    return found[-1]


@pytest.fixture
def postgres():
    """A throwaway cluster on a Unix socket only, run as the postgres user (it refuses root)."""
    root = Path(tempfile.mkdtemp(prefix="eyeshots-pg-"))
    shutil.chown(root, "postgres", "postgres")
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    shutil.chown(sock, "postgres", "postgres")

    def as_postgres(*cmd: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *cmd], check=True, capture_output=True, timeout=120
        )

    as_postgres(pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    # no TCP at all: the port only names the socket file inside this private directory
    as_postgres(
        pg_bin("pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-l",
        str(root / "log"),
        "-o",
        f"-c listen_addresses='' -c unix_socket_directories={sock} -p 5439",
        "start",
    )
    try:
        yield f"host={sock} port=5439 user=postgres dbname=postgres"
    finally:
        as_postgres(pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(root, ignore_errors=True)


def psql(dsn: str, sql: str) -> str:
    return subprocess.run(
        ["psql", "-At", dsn, "-c", sql], check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()


def test_job_dumps_postgres(local_repo, postgres, tmp_path, password):
    _, restic = local_repo
    psql(postgres, "CREATE TABLE clients (id serial PRIMARY KEY, name text)")
    psql(postgres, "INSERT INTO clients(name) SELECT 'client ' || g FROM generate_series(1, 300) g")
    pw = tmp_path / "pw"
    pw.write_text(password)
    env = {"EYESHOTS_BACKUP_REPOSITORY": restic.repo, "EYESHOTS_BACKUP_PASSWORD_FILE": str(pw)}
    staging = tmp_path / "state" / "staging"
    result = CliRunner().invoke(
        cli,
        [
            "--json",
            "run",
            "--pg-dsn",
            postgres,
            "--staging-dir",
            str(staging),
            "--state-dir",
            str(tmp_path / "state"),
            "--textfile-dir",
            "",
        ],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["errors"] == []

    target = tmp_path / "restored"
    restic.run("restore", "latest", "--target", str(target))
    dump = target / staging.relative_to("/") / "postgres.dump"
    psql(postgres, "CREATE DATABASE drill")
    subprocess.run(
        ["pg_restore", "-d", postgres.replace("dbname=postgres", "dbname=drill"), str(dump)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    drill = postgres.replace("dbname=postgres", "dbname=drill")
    assert psql(drill, "SELECT count(*) FROM clients") == "300"
    assert os.path.getsize(dump) > 0
