"""kill -9 in the middle of a backup and of a prune: restic still checks, nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from backup.archiver import Archiver
from backup.backends.base import FileType
from backup.locks import Lock


def eyeshots(env: dict, *args: str) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "eyeshots"
    return subprocess.Popen(
        [str(exe), "backup", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_when(proc: subprocess.Popen, condition: Callable[[], bool], timeout: float = 120) -> bool:
    """SIGKILL the process as soon as `condition` holds; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            return True
        time.sleep(0.002)
    proc.kill()
    raise AssertionError("condition never reached")


def packs(repo_path: Path) -> set[str]:
    return {p.name for p in (repo_path / "data").glob("*/*") if len(p.name) == 64}


def random_files(root: Path, count: int, size: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"f{i:02d}.bin").write_bytes(os.urandom(size))


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def cli_env(restic, tmp_path: Path, password: str) -> dict:
    pw = tmp_path / "pw"
    pw.write_text(password)
    return {"EYESHOTS_BACKUP_REPOSITORY": restic.repo, "EYESHOTS_BACKUP_PASSWORD_FILE": str(pw)}


def test_kill_during_backup(local_repo, tmp_path, password):
    _, restic = local_repo
    repo_path = Path(restic.repo)
    src = tmp_path / "src"
    random_files(src, 12, 12 * 1024 * 1024)
    env = cli_env(restic, tmp_path, password)
    job = ["run", str(src), "--textfile-dir", "", "--state-dir", str(tmp_path / "state")]
    proc = eyeshots(env, *job)
    killed = kill_when(proc, lambda: len(packs(repo_path)) >= 3)
    assert killed, "backup finished before it could be interrupted"
    assert not list((repo_path / "snapshots").iterdir())

    restic.run("unlock")  # the killed run's lock: same host, dead PID => stale
    assert "no errors were found" in restic.run("check", "--read-data").stdout

    rerun = eyeshots(env, *job)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    restic.run("check", "--read-data")
    target = tmp_path / "out"
    restic.run("restore", "latest", "--target", str(target))
    assert tree_bytes(target / src.relative_to("/")) == tree_bytes(src)


def test_kill_during_prune(local_repo, tmp_path, password):
    repo, restic = local_repo
    repo_path = Path(restic.repo)
    src = tmp_path / "src"
    random_files(src, 10, 6 * 1024 * 1024)
    repo.load_index()
    with Lock(repo):
        first = Archiver(repo).snapshot([str(src)]).snapshot_id
    for i in range(0, 10, 2):
        (src / f"f{i:02d}.bin").unlink()
    repo.load_index()
    with Lock(repo):
        Archiver(repo).snapshot([str(src)])
    repo.backend.remove(FileType.SNAPSHOT, first)
    env = cli_env(restic, tmp_path, password)

    kills = []
    for stage in ("repacking", "index"):
        before_packs = packs(repo_path)
        before_index = set(os.listdir(repo_path / "index"))

        def condition(stage=stage, before_packs=before_packs, before_index=before_index) -> bool:
            if stage == "repacking":
                return bool(packs(repo_path) - before_packs)
            return bool(set(os.listdir(repo_path / "index")) - before_index)

        proc = eyeshots(env, "prune", "--max-unused", "0%")
        if not kill_when(proc, condition):
            break  # nothing left to prune: the earlier kill point already covered it
        kills.append(stage)
        restic.run("unlock")
        assert "no errors were found" in restic.run("check", "--read-data").stdout
        target = tmp_path / f"after-{stage}"
        restic.run("restore", "latest", "--target", str(target))
        assert tree_bytes(target / src.relative_to("/")) == tree_bytes(src)

    assert kills[:1] == ["repacking"], "prune finished before it could be interrupted"
    proc = eyeshots(env, "prune", "--max-unused", "0%")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    restic.run("check", "--read-data")
    target = tmp_path / "final"
    restic.run("restore", "latest", "--target", str(target))
    assert tree_bytes(target / src.relative_to("/")) == tree_bytes(src)


def test_sigterm_during_backup_releases_the_lock(local_repo, tmp_path, password):
    _, restic = local_repo
    repo_path = Path(restic.repo)
    src = tmp_path / "src"
    random_files(src, 10, 12 * 1024 * 1024)
    env = cli_env(restic, tmp_path, password)
    textfile = tmp_path / "textfile"
    proc = eyeshots(
        env,
        "run",
        str(src),
        "--textfile-dir",
        str(textfile),
        "--state-dir",
        str(tmp_path / "state"),
    )
    deadline = time.monotonic() + 120
    while not packs(repo_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, "backup finished before it could be stopped"
    proc.send_signal(signal.SIGTERM)  # what `systemctl stop` sends
    assert proc.wait(60) == 128 + signal.SIGTERM
    assert list((repo_path / "locks").iterdir()) == []
    assert (
        'eyeshots_backup_last_run_success{repository="local"} 0.0'
        in (textfile / "eyeshots_backup_local.prom").read_text()
    )
    restic.run("check", "--read-data")
