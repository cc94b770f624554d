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


def packs(repo: Path) -> set[str]:
    return {p.name for p in (repo / "data").glob("*/*") if len(p.name) == 64}


def kill_when(proc: subprocess.Popen, condition, timeout: float = 60) -> bool:  # noqa: ANN001
    """SIGKILL as soon as `condition` holds; False when the process finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            return True
        time.sleep(0.002)
    proc.wait(60)
    return False


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
    for i in range(2):
        (src / f"big{i}.bin").write_bytes(os.urandom(7 * 1024 * 1024))
    job = ["run", "--textfile-dir", "", "--state-dir", str(tmp_path / "state"), str(src)]

    # the file under the writer's hands: grows and shrinks during every run
    stop = threading.Event()

    def churn() -> None:
        sizes = random.Random(7)  # its own generator: the main thread draws from rng
        path = src / "live.log"
        while not stop.is_set():
            with open(path, "ab") as f:
                f.write(os.urandom(sizes.randrange(1, 256 * 1024)))
            if path.stat().st_size > 3 * 1024 * 1024:
                os.truncate(path, sizes.randrange(0, 600 * 1024))
            time.sleep(0.001)

    writer = threading.Thread(target=churn, daemon=True)
    writer.start()
    hits = 0
    try:
        for round_ in range(3):
            # 20 MiB of new data each round: at least one pack is stored before the flush
            (src / f"round{round_}.bin").write_bytes(os.urandom(20 * 1024 * 1024))
            before = packs(repo)
            wanted = rng.randint(1, 2) if round_ == 0 else 1
            hits += kill_when(
                start(env, *job), lambda b=before, w=wanted: len(packs(repo) - b) >= w
            )
            finish(start(env, *job))  # no unlock: the dead run's lock is cleared by the run
            assert "no errors were found" in restic.run("check", "--read-data").stdout

        for name in ("round0.bin", "round1.bin", "big0.bin"):
            (src / name).unlink()
        finish(start(env, *job))
        restic.run("forget", "--keep-last", "1")
        for stage in ("pack", "index"):
            before, index = packs(repo), set(os.listdir(repo / "index"))

            def reached(stage=stage, before=before, index=index) -> bool:
                if stage == "pack":
                    return bool(packs(repo) - before)
                return set(os.listdir(repo / "index")) != index

            hits += kill_when(start(env, "prune", "--max-unused", "0%"), reached)
            # again no unlock, now after an exclusive lock died: exclusive and shared next
            finish(start(env, "forget", "--keep-last", "1", "--prune"))
            finish(start(env, *job))
            assert "no errors were found" in restic.run("check", "--read-data").stdout
    finally:
        stop.set()
        writer.join(10)
    assert hits >= 4, f"only {hits} of 5 kills hit a running process"
    finish(start(env, "prune"))  # finds and removes what the killed runs left mid-write
    assert temp_files(repo) == []
    out = tmp_path / "out"
    restic.run("restore", "latest", "--target", str(out))
    assert (out / src.relative_to("/") / "big1.bin").read_bytes() == (src / "big1.bin").read_bytes()
    assert "no errors were found" in restic.run("check", "--read-data").stdout
