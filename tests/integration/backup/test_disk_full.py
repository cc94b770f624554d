"""A full disk under the repository: the run fails naming the repository, leaves no temp
files and no new packs (the space it had), and the repository stays valid for restic.

The tests run as root (as the rest of this folder); the small tmpfs is mounted in a private
mount namespace (`unshare -m`), so it vanishes with the process and nothing leaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EYESHOTS = str(Path(sys.executable).parent / "eyeshots")


def test_full_disk_keeps_repository_valid_and_space_free(local_repo, env, tmp_path):
    _, restic = local_repo
    small = tmp_path / "small"
    small.mkdir()
    src = tmp_path / "src"
    src.mkdir()
    (src / "first.txt").write_text("fits\n")
    (src / "big.bin").write_bytes(os.urandom(24 * 1024 * 1024))
    repo = small / "repo"
    pw = env["EYESHOTS_BACKUP_PASSWORD_FILE"]
    job = f"{EYESHOTS} backup -r {repo} --password-file {pw} --json"
    state = f"--state-dir {tmp_path / 'state'} --textfile-dir ''"
    script = f"""
set -e
mount -t tmpfs -o size=12m tmpfs {small}
{job} init >/dev/null
{job} run {state} {src}/first.txt >/dev/null
df -B1 --output=avail {small} | tail -1 > {tmp_path}/free-before
ls -R {repo} > {tmp_path}/files-before
set +e
{job} run {state} {src} 2> {tmp_path}/err
echo $? > {tmp_path}/rc
set -e
df -B1 --output=avail {small} | tail -1 > {tmp_path}/free-after
ls -R {repo} > {tmp_path}/files-after
{job} run {state} {src}/first.txt > {tmp_path}/after-run
cp -a {repo} {tmp_path}/repo-copy
"""
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=300)
    assert (tmp_path / "rc").read_text().strip() == "1"
    err = (tmp_path / "err").read_text().strip().splitlines()
    assert len(err) == 1, err
    assert f"repository {repo}" in err[0] and "disk is full" in err[0], err
    assert str(src) not in err[0]  # the source files are not to blame
    # nothing left behind: no temp files, no orphan packs, the space it had
    assert (tmp_path / "files-after").read_text() == (tmp_path / "files-before").read_text()
    before = int((tmp_path / "free-before").read_text())
    after = int((tmp_path / "free-after").read_text())
    assert after >= before - 64 * 1024, (before, after)
    # a small backup still works, and restic finds the repository intact
    assert json.loads((tmp_path / "after-run").read_text().splitlines()[-1])["snapshot_id"]
    copy = restic.__class__(str(tmp_path / "repo-copy"))
    assert "no errors were found" in copy.run("check", "--read-data").stdout
    assert len(copy.json("snapshots")) == 2
