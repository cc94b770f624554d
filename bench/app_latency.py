"""Latency of the web platform's busiest pages at 50 concurrent signed-in users, on SQLite.

Starts `eyeshots app serve` on 127.0.0.1 against a fresh SQLite database seeded with a studio
(50 users, 20 projects, files, versions, comments, invoices), then 50 virtual users each load
their dashboard and one of their projects in a loop, in two phases: first like people, pausing
`--think` seconds after each page (target: p95 <= 50 ms), then without pauses, which gives the
throughput per worker and, from the CPU time of the server and of this load generator, what
bounds it. The peer is /healthz on the same server in the same run: no database, no template,
so the ratio shows what the pages themselves cost.

    uv run python bench/app_latency.py [--users 50] [--seconds 20] [--workers 1] [--think 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.assets import service as assets  # noqa: E402
from app.core.db import make_engine, make_sessionmaker  # noqa: E402
from app.core.deps import cookie_name  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.core.security import hash_token, new_token  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.invoices import service as invoices  # noqa: E402
from app.models import (  # noqa: E402
    ClientOrg,
    FileKind,
    MemberRole,
    ProjectMember,
    Role,
    User,
    UserKind,
    UserSession,
    Visibility,
    utcnow,
)
from app.projects import service as projects  # noqa: E402
from app.reviews import service as reviews  # noqa: E402
from app.storage import LocalStorage  # noqa: E402

# a 2x2 PNG: a real picture, so each upload is probed as in production
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000208020000"
    "00fdd49a730000001649444154789c63f8cfc0f09f8181e13f030303"
    "0300135a03fd9ee4aef60000000049454e44ae426082"
)


def seed(settings: Settings, users: int) -> list[tuple[str, int]]:
    """Returns (session token, a project id the user can see or 0) per virtual user."""
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    storage = LocalStorage(settings.storage_dir)
    rng = random.Random(7)
    sessions = []
    with make_sessionmaker(engine).begin() as db:
        orgs = [ClientOrg(name=f"Client {i}") for i in range(5)]
        db.add_all(orgs)
        db.flush()
        people = []
        roles = [Role.ADMIN, Role.PROJECT_MANAGER, Role.CREATIVE, Role.CREATIVE, Role.CLIENT]
        for i in range(users):
            role = roles[i % len(roles)]
            client = role is Role.CLIENT
            people.append(User(email=f"user{i}@bench.test", name=f"User {i}", role=role,
                               kind=UserKind.CLIENT if client else UserKind.INTERNAL,
                               client_org_id=orgs[i % 5].id if client else None))  # fmt: skip
        db.add_all(people)
        db.flush()
        pms = [p for p in people if p.role is Role.PROJECT_MANAGER]
        staff = [p for p in people if p.role in (Role.CREATIVE, Role.PROJECT_MANAGER)]
        all_projects = []
        for i in range(20):
            pm = pms[i % len(pms)]
            project = projects.create_project(db, pm, f"Project {i}", orgs[i % 5].id, None)
            for member in rng.sample(staff, 6):
                if member.id != pm.id:
                    db.add(
                        ProjectMember(
                            project_id=project.id, user_id=member.id, role=MemberRole.CREATIVE
                        )
                    )
            db.flush()
            all_projects.append(project)
            for j in range(5):
                file = assets.create_file(db, pm, project, f"Shot {j}", FileKind.IMAGE)
                for _ in range(2):
                    version = assets.add_version(db, storage, pm, file, project, [PNG],
                                                 "image/png", "shot.png")  # fmt: skip
                for k in range(4):
                    reviews.add_comment(db, pm, version, project, f"note {k}", Visibility.PUBLIC,
                                        t_start=float(k))  # fmt: skip
            line = [invoices.LineInput("Work", Decimal("3"), Decimal("120"))]
            invoice = invoices.create_invoice(
                db, pm, project.id, None, "EUR", Decimal("19"), None, "", line
            )
            invoices.transition(db, pm, invoice, "send")
        from app.authz.check import allowed, project_filter  # noqa: F401
        from app.projects.repository import readable_projects

        for person in people:
            token = new_token()
            db.add(UserSession(user_id=person.id, token_hash=hash_token(token),
                               expires_at=utcnow() + timedelta(hours=2)))  # fmt: skip
            visible = readable_projects(db, person)
            # a creative on no project yet gets 404 there; they load the project list instead
            sessions.append((token, visible[0].id if visible else 0))
    engine.dispose()
    return sessions


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


PAGES = ("dashboard", "project", "healthz (peer)")


async def load(
    base: str, cookie: str, sessions: list[tuple[str, int]], seconds: float, think: float
) -> dict[str, list[float]]:
    """Each session loads its pages in turn, pausing `think` seconds after each one."""
    results: dict[str, list[float]] = {name: [] for name in PAGES}
    errors = 0
    last_error = [""]
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=len(sessions) + 5)
    rng = random.Random(11)

    async def user(token: str, project_id: int) -> None:
        nonlocal errors
        # users arrive spread over one pause, not all in the same millisecond
        await asyncio.sleep(rng.uniform(0, think))
        async with httpx.AsyncClient(base_url=base, cookies={cookie: token}, limits=limits,
                                     timeout=60) as client:  # fmt: skip
            project = f"/projects/{project_id}" if project_id else "/projects"
            paths = ("/home", project, "/healthz")
            # one unmeasured round first: a cold server (templates compiled, connections opened)
            # is not what a user meets after the first minute
            for path in paths:
                await client.get(path)
            while time.monotonic() < deadline:
                for name, path in zip(PAGES, paths, strict=True):
                    started = time.perf_counter()
                    try:
                        response = await client.get(path)
                    except httpx.TransportError as error:
                        errors += 1
                        last_error[0] = repr(error)
                        continue
                    elapsed = time.perf_counter() - started
                    if response.status_code != 200:
                        errors += 1
                        last_error[0] = f"{path}: {response.status_code}"
                    results[name].append(elapsed)
                    if think:
                        await asyncio.sleep(think)

    await asyncio.gather(*(user(t, p) for t, p in sessions))
    if errors:
        print(f"warning: {errors} failed requests (last: {last_error[0]})", file=sys.stderr)
    return results


def cpu_seconds(process: psutil.Process) -> float:
    """CPU time of the server: the supervisor and every worker process."""
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def phase(server: subprocess.Popen, run: Callable[[], dict[str, list[float]]], seconds: float,
          workers: int, title: str) -> None:  # fmt: skip
    """Runs one load phase and prints latency per page, throughput and where the CPU went."""
    this = psutil.Process()
    server_process = psutil.Process(server.pid)
    server_before, client_before = cpu_seconds(server_process), this.cpu_times()
    started = time.monotonic()
    results = run()
    wall = time.monotonic() - started
    server_cpu = cpu_seconds(server_process) - server_before
    client_after = this.cpu_times()
    client_cpu = client_after.user + client_after.system - client_before.user - client_before.system
    peer = percentile(results["healthz (peer)"], 95)
    total = sum(len(values) for values in results.values())
    print(f"\n{title}")
    print(f"{'route':<16}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p95 / peer':>12}")
    for name, values in results.items():
        p50, p95 = statistics.median(values) * 1000, percentile(values, 95) * 1000
        print(
            f"{name:<16}{len(values):>9}{p50:>9.1f}{p95:>9.1f}{percentile(values, 95) / peer:>11.1f}x"
        )
    print(f"throughput {total / wall:.0f} requests/s, {total / wall / workers:.0f} per worker; "
          f"server CPU {server_cpu / wall:.2f} cores ({server_cpu / wall / workers:.0%} of each "
          f"worker), load generator {client_cpu / wall:.2f} cores, machine has {os.cpu_count()}")  # fmt: skip
    # what a request costs whatever else runs on the machine: the ceiling of one worker
    per_request = server_cpu / total if total else 0
    print(f"server CPU per request {per_request * 1000:.1f} ms (these three pages in turn): one "
          f"worker with a whole core serves at most {1 / per_request if per_request else 0:.0f} "
          f"requests/s; machine load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds each user pauses after a page in the first phase")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eyeshots-bench-") as tmp:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "EYESHOTS_DATA_DIR": tmp, "EYESHOTS_COOKIE_SECURE": "false",
               "EYESHOTS_BASE_URL": f"http://127.0.0.1:{port}", "EYESHOTS_SECRET_KEY": "bench"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        settings = Settings(data_dir=Path(tmp), cookie_secure=False)
        print(f"seeding {args.users} users ...", flush=True)
        # the same studio whatever the concurrency, so runs at different --users compare
        sessions = seed(settings, max(args.users, 50))[: args.users]
        eyeshots = str(Path(sys.executable).parent / "eyeshots")
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115
        server = subprocess.Popen([eyeshots, "app", "serve", "--port", str(port), "--workers", str(args.workers)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 180  # imports alone take seconds on a busy machine
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=30).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("bench: the server did not start")
                time.sleep(0.1)
            cookie = cookie_name(settings)
            print(f"{args.users} users, {args.seconds:.0f} s per phase, SQLite, "
                  f"{args.workers} worker(s)")  # fmt: skip
            phase(server, lambda: asyncio.run(load(base, cookie, sessions, args.seconds, args.think)),
                  args.seconds, args.workers, f"users pausing {args.think:g} s between pages")  # fmt: skip
            phase(server, lambda: asyncio.run(load(base, cookie, sessions, args.seconds, 0)),
                  args.seconds, args.workers, "users without pauses (closed loop)")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=20)
            log.close()
            if server.returncode not in (0, -15):
                print((Path(tmp) / "server.log").read_text()[-3000:], file=sys.stderr)


if __name__ == "__main__":
    main()
