#!/usr/bin/env python3
"""Benchmark: the eyeshots backup engine against stock restic on the same data, same run.

Builds (or reuses) a mixed data set of >= 500 MiB: incompressible media-like files,
compressible logs/text, ~20k small files, and duplicated content. Then, for each tool, on a
local repository: initial backup, no-change backup, full restore (wall times) and repository
size. Prints a table of ratios eyeshots/restic (goal: <= 1.0 for times, size within 2 %).
CPU seconds (user+sys) are printed too: on a shared machine they vary far less than wall time.
Peak RSS is per command. Every command starts after a sync, so no tool pays for the previous
step's writeback.

    uv run python bench/backup_vs_restic.py [--data DIR] [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "bench password"
MiB = 1024 * 1024


def make_dataset(root: Path) -> int:
    marker = root / ".complete"
    if marker.exists():
        return int(marker.read_text())
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(42)
    media = root / "media"
    media.mkdir(parents=True)
    for i in range(4):  # 200 MiB incompressible (photos, video)
        (media / f"clip{i}.mp4").write_bytes(os.urandom(50 * MiB))
    logs = root / "logs"
    logs.mkdir()
    words = [f"{w}" for w in ("GET", "POST", "/api/photos", "/files", "200", "404", "user", "ok")]
    for i in range(30):  # 150 MiB compressible text
        lines = []
        size = 0
        while size < 5 * MiB:
            line = (
                f"2026-11-{i % 28 + 1:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z "
                f"{rng.choice(words)} {rng.choice(words)} id={rng.randrange(10**9)} "
                f"took={rng.random():.4f}s\n"
            )
            lines.append(line)
            size += len(line)
        (logs / f"app-{i:02d}.log").write_text("".join(lines))
    small = root / "thumbs"
    for d in range(100):  # ~100 MiB in 20,000 small files
        sub = small / f"{d:03d}"
        sub.mkdir(parents=True)
        for f in range(200):
            n = rng.randrange(1024, 9 * 1024)
            (sub / f"t{f:03d}.jpg").write_bytes(os.urandom(n // 2) + bytes(n - n // 2))
    dup = root / "copies"
    dup.mkdir()
    shutil.copy(media / "clip0.mp4", dup / "clip0-copy.mp4")  # 50 MiB duplicate
    shutil.copytree(logs, dup / "logs-copy", dirs_exist_ok=True)  # 150 MiB duplicate text
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    marker.write_text(str(total))
    return total


def timed(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds user+sys, peak RSS MiB) of one command."""
    # start from a clean page cache state: writeback left by the previous step (a restore
    # writes ~650 MiB) must not be charged to whichever tool happens to run next
    os.sync()
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read()[-2000:].decode(errors="replace")
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def compile_bytecode() -> None:
    """Byte-compile the installed code once, as a deployed virtualenv has it.

    Without .pyc files (PYTHONDONTWRITEBYTECODE=1, or a read-only install) every command
    compiles ~200 modules from source first: ~0.2 s per run that says nothing about the
    engine. `--no-compile` measures that case.
    """
    import compileall
    import site

    roots = [
        *site.getsitepackages(),
        *(
            str(Path(__file__).resolve().parents[1] / p)
            for p in ("backup", "provision", "app", "monitoring")
        ),
    ]
    for root in roots:
        compileall.compile_dir(root, quiet=2, workers=0)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_tool(name: str, data: Path, work: Path) -> dict[str, float]:
    repo = work / f"repo-{name}"
    target = work / f"restore-{name}"
    for p in (repo, target):
        if p.exists():
            shutil.rmtree(p)
    env = {
        **os.environ,
        "RESTIC_PASSWORD": PASSWORD,
        "EYESHOTS_BACKUP_PASSWORD": PASSWORD,
        "RESTIC_CACHE_DIR": str(work / "restic-cache"),
    }
    if name == "restic":
        base = ["restic", "-r", str(repo)]
        init = [*base, "init", "--repository-version", "2"]
        backup = [*base, "backup", "-q", str(data)]
        restore = [*base, "restore", "latest", "--target", str(target)]
    else:
        exe = str(Path(sys.executable).parent / "eyeshots")
        base = [exe, "backup", "-r", str(repo)]
        init = [*base, "init"]
        state = str(work / "eyeshots-state")
        backup = [
            *base,
            "run",
            str(data),
            "--textfile-dir",
            "",
            "--state-dir",
            state,
            "--check-interval-days",
            "100000",
        ]
        restore = [*base, "restore", "latest", "--target", str(target)]
    timed(init, env)
    result: dict[str, float] = {}
    for label, cmd in (
        ("initial backup", backup),
        ("no-change backup", backup),
        ("full restore", restore),
    ):
        wall, cpu, rss = timed(cmd, env)
        result[f"{label} (s)"] = wall
        result[f"{label} CPU (s)"] = cpu
        result[f"{label} RSS (MiB)"] = rss
    result["repository size (MiB)"] = du(repo) / MiB
    shutil.rmtree(target)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "eyeshots-bench-data"
    )
    ap.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "eyeshots-bench-work"
    )
    ap.add_argument("--keep", action="store_true", help="keep repositories afterwards")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the best time of each counts")
    ap.add_argument(
        "--no-compile", action="store_true", help="do not byte-compile eyeshots' code first"
    )
    args = ap.parse_args()
    if not args.no_compile:
        compile_bytecode()
    if shutil.which("restic") is None:
        sys.exit("restic not found: apt-get install restic")
    total = make_dataset(args.data)
    print(f"data set: {total / MiB:.0f} MiB in {args.data}")
    args.work.mkdir(parents=True, exist_ok=True)
    # the tools take turns going first, so background load hits both alike; best round counts
    rounds: dict[str, list[dict[str, float]]] = {"restic": [], "eyeshots": []}
    for i in range(args.repeat):
        for tool in sorted(rounds, reverse=bool(i % 2)):
            rounds[tool].append(run_tool(tool, args.data, args.work))
    restic, ours = ({m: min(r[m] for r in rounds[t]) for m in rounds[t][0]} for t in rounds)
    print(f"\n{'metric':<24}{'restic':>10}{'eyeshots':>10}{'ratio':>8}")
    for metric in restic:
        ratio = ours[metric] / restic[metric] if restic[metric] else float("nan")
        print(f"{metric:<24}{restic[metric]:>10.2f}{ours[metric]:>10.2f}{ratio:>8.2f}")
    if not args.keep:
        shutil.rmtree(args.work)


if __name__ == "__main__":
    main()
