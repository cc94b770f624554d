"""Bounded torture: kill -9 at random points of backup and prune, a file growing and shrinking
while it is read, names and targets that are not UTF-8 — and after every blow the stock restic
finds the repository intact and the next run works without anyone unlocking by hand."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

EYESHOTS = str(Path(sys.executable).parent / "eyeshots")


def start(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [EYESHOTS, "backup", *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen, codes: tuple[int, ...] = (0,)) -> None:
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in codes, err.decode(errors="replace")


def temp_files(repo: Path) -> list[Path]:
    return [p for p in repo.rglob("*") if "-tmp-" in p.name]


def test_kill_nine_rounds_then_restic_checks_and_next_run_works(local_repo, env, tmp_path):
    _, restic = local_repo
    repo = Path(restic.repo)
    rng = random.Random(1414)
    src = tmp_path / "src"
    src.mkdir()
    srcb = os.fsencode(src)
    os.symlink(b"t\xffrget", srcb + b"/bad-link")
    with open(srcb + b"/caf\xe9", "wb") as f:
        f.write(b"latin-1 name")
    for i in range(6):
        (src / f"big{i}.bin").write_bytes(os.urandom(7 * 1024 * 1024))
    job = ["run", "--textfile-dir", "", "--state-dir", str(tmp_path / "state"), str(src)]

    # the file under the writer's hands: grows and shrinks during every run
    stop = threading.Event()

    def churn() -> None:
        path = src / "live.log"
        while not stop.is_set():
            with open(path, "ab") as f:
                f.write(os.urandom(rng.randrange(1, 256 * 1024)))
            if path.stat().st_size > 3 * 1024 * 1024:
                os.truncate(path, rng.randrange(0, 600 * 1024))
            time.sleep(0.001)

    writer = threading.Thread(target=churn, daemon=True)
    writer.start()
    hits = 0
    try:
        for round_ in range(3):
            # a changed file each round, so every backup has something to upload
            (src / f"round{round_}.bin").write_bytes(os.urandom(5 * 1024 * 1024))
            proc = start(env, *job)
            time.sleep(rng.uniform(0.3, 1.2))
            hits += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            finish(start(env, *job))  # no unlock: the dead run's lock is cleared by the run
            assert "no errors were found" in restic.run("check", "--read-data").stdout

        (src / "round0.bin").unlink()
        (src / "big0.bin").unlink()
        for _ in range(2):
            restic.run("forget", "--keep-last", "1")
            proc = start(env, "prune", "--max-unused", "0%")
            time.sleep(rng.uniform(0.2, 0.8))
            hits += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            finish(start(env, "prune", "--max-unused", "0%"))
            assert "no errors were found" in restic.run("check", "--read-data").stdout
            finish(start(env, *job))
    finally:
        stop.set()
        writer.join(10)
    assert hits >= 3, f"only {hits} of 5 kills hit a running process"
    finish(start(env, "prune"))  # finds and removes what the killed runs left mid-write
    assert temp_files(repo) == []
    out = tmp_path / "out"
    restic.run("restore", "latest", "--target", str(out))
    assert (out / src.relative_to("/") / "big1.bin").read_bytes() == (src / "big1.bin").read_bytes()
    assert "no errors were found" in restic.run("check", "--read-data").stdout
