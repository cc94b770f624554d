"""Releases on a provisioned sandbox VPS: the first deploy, a redeploy under load with zero failed
requests, expand-only migrations that keep the previous release working, a failed migration and
an unhealthy release that both leave the old release serving, and `eyeshots rollback`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest
import yaml
from eyeshots_cli import PROJECT_ROOT, eyeshots
from sandboxes import Sandbox, boot, destroy, provision, write_inventory
from site_client import PNG, api, get, login, open_stream, request, upload_image

DOMAIN = "deploy.eyeshots.test"
MACHINE = "tdeploy"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    try:
        box = boot(MACHINE)
        inventory = write_inventory(
            tmp_path_factory.mktemp("inventory"),
            MACHINE,
            yaml.safe_dump({"eyeshots_domain": DOMAIN}),
        )
        provision(inventory)
        yield box, inventory
    finally:
        destroy(MACHINE)


def source_tree(directory: Path) -> Path:
    """A copy of the checked-in project, to build a variant release from."""
    tracked = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, directory / name)
    return directory


@pytest.fixture(scope="module")
def expanded(tmp_path_factory) -> Path:
    """The project plus one expand-only migration. Later test releases build on it: once a
    migration has run, every release must carry it (alembic cannot place an unknown head)."""
    tree = source_tree(tmp_path_factory.mktemp("expanded"))
    add_migration(
        tree, "9001_expand", "op.add_column('projects', sa.Column('deploytest_note', sa.Text()))"
    )
    return tree


def add_migration(tree: Path, name: str, upgrade: str) -> None:
    versions = tree / "app" / "alembic" / "versions"
    text = "\n".join(p.read_text() for p in versions.glob("*.py"))
    revisions = set(re.findall(r'^revision = "([^"]+)"', text, re.M))
    parents = set(re.findall(r'^down_revision = "([^"]+)"', text, re.M))
    (head,) = revisions - parents
    (versions / f"{name}.py").write_text(
        f'"""{name} (test release)."""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f'revision = "{name}"\ndown_revision = "{head}"\nbranch_labels = None\n'
        f"depends_on = None\n\n\ndef upgrade() -> None:\n    {upgrade}\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )


def deploy(inventory: str, *args: str) -> subprocess.CompletedProcess:
    return eyeshots("deploy", "-i", inventory, *args)


def releases(inventory: str) -> list[dict]:
    result = eyeshots("releases", "-i", inventory, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[MACHINE]


def current(inventory: str) -> str:
    (now,) = [r["version"] for r in releases(inventory) if r["current"]]
    return now


def live_version(box: Sandbox) -> str:
    return box.sudo("readlink /opt/eyeshots/current").stdout.strip().rsplit("/", 1)[-1]


def serves_the_app(box: Sandbox) -> bool:
    status, body = get(box.machine.address, DOMAIN, "/sign-in")
    return status == 200 and b"Eye Shots" in body


class Load:
    """Requests through nginx on fresh connections, from a few threads, until stopped."""

    def __init__(self, address: str, paths: tuple[str, ...]) -> None:
        self.address, self.paths = address, paths
        self.results: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(4)]

    def _run(self, index: int) -> None:
        n = index
        while not self._stop.is_set():
            path = self.paths[n % len(self.paths)]
            n += 1
            try:
                status, _ = get(self.address, DOMAIN, path)
            except OSError as error:
                self.failures.append(f"{path}: {error!r}")
                continue
            self.results[str(status)] += 1
            if status != 200:
                self.failures.append(f"{path}: HTTP {status}")

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def test_first_deploy_serves_the_app_through_nginx(site):
    box, inventory = site
    status, body = get(box.machine.address, DOMAIN, "/")
    assert status == 200 and b"not deployed yet" in body

    result = deploy(inventory)
    assert result.returncode == 0, result.stderr[-3000:]
    version = current(inventory)
    assert version in result.stderr and live_version(box) == version
    assert serves_the_app(box)
    assert box.sudo(f"systemctl is-enabled eyeshots-app@{version}").stdout.strip() == "enabled"
    # the app's metrics stay off the public site, on the loopback address Prometheus scrapes
    assert get(box.machine.address, DOMAIN, "/metrics")[0] == 404
    assert (
        "eyeshots_http_requests_total" in box.sudo("curl -sf http://127.0.0.1:8000/metrics").stdout
    )


def test_status_and_logs_show_the_live_release(site):
    box, inventory = site
    version = current(inventory)
    result = eyeshots("status", "-i", inventory, "--json")
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)[MACHINE]
    assert state["release"] == version
    units = {u["unit"]: u["active"] for u in state["units"]}
    assert units[f"eyeshots-app@{version}.service"] == "active"
    assert units["eyeshots-exporter.service"] == "active" and units["nginx.service"] == "active"
    assert 300 < state["certificate_days_left"] <= 366
    assert {d["path"] for d in state["disks"]} >= {"/", "/var/lib/eyeshots"}
    # apt answered on the host, and the first provision left no security update pending
    assert state["updates"]["pending"] is not None and state["updates"]["security"] == 0
    text = eyeshots("status", "-i", inventory)
    assert f"release   {version}" in text.stdout
    assert "updates   " in text.stdout and "(0 security)" in text.stdout

    logs = eyeshots("logs", "-i", inventory, "app", "-n", "50")
    assert logs.returncode == 0 and "Uvicorn running on http://127.0.0.1:81" in logs.stdout
    wrong = eyeshots("logs", "-i", inventory, "database")
    assert wrong.returncode == 2 and "'database' is not one of" in wrong.stderr


def test_redeploy_under_load_fails_no_request(site):
    box, inventory = site
    before = current(inventory)
    with Load(box.machine.address, ("/healthz", "/sign-in", "/static/app.css")) as load:
        result = deploy(inventory)
    assert result.returncode == 0, result.stderr[-3000:]
    after = current(inventory)
    assert after != before
    assert load.failures == [], load.failures[:10]
    assert sum(load.results.values()) > 50, load.results
    print(f"\nrequests during the redeploy: {dict(load.results)}, failed: {len(load.failures)}")
    state = box.sudo(f"systemctl is-active eyeshots-app@{before}", check=False).stdout.strip()
    assert state == "inactive"


def sign_in(box: Sandbox, inventory: str) -> dict[str, str]:
    """The first admin's API session (its password read once with `eyeshots admin-password`)."""
    shown = eyeshots("admin-password", "-i", inventory)
    assert shown.returncode == 0, shown.stderr
    email, password = re.search(r"sign in as (\S+) with password (\S+)", shown.stdout).groups()
    return login(box.machine.address, DOMAIN, email, password)


def call(box: Sandbox, session: dict[str, str], method: str, path: str, data: dict) -> dict:
    return api(box.machine.address, DOMAIN, session, method, path, data)


def event_ids(stream, until_closed: bool = False, wanted: int = 1) -> list[int]:
    """Event ids read from an SSE stream: `wanted` of them, or all until the server closes it."""
    ids: list[int] = []
    for raw in stream:
        line = raw.decode().strip()
        if line.startswith("id:"):
            ids.append(int(line[3:]))
            if not until_closed and len(ids) >= wanted:
                break
    return ids


@pytest.fixture(scope="module")
def session(site) -> dict[str, str]:
    box, inventory = site
    return sign_in(box, inventory)


def test_files_go_up_through_the_file_service_and_down_through_nginx(site, session):
    box, inventory = site
    version, links = upload_image(box.machine.address, DOMAIN, session, "still été")
    assert version["content_type"] == "image/png" and version["size"] == len(PNG)
    # stored under a key, not the user's name, in the data directory of the release-independent
    # storage; nginx (www-data) may read it, as X-Accel-Redirect needs
    stored = box.sudo("find /srv/eyeshots/files -type f -size -2k ! -path '*/tmp/*'").stdout
    assert "still" not in stored and stored.strip()

    download = links["download_url"]
    status, headers, body = request(box.machine.address, DOMAIN, "GET", download)
    assert status == 200 and body == PNG
    assert headers["Content-Type"] == "image/png"
    assert "filename*=UTF-8''still%20%C3%A9t%C3%A9.png" in headers["Content-Disposition"]
    status, headers, body = request(
        box.machine.address, DOMAIN, "GET", download, None, {"Range": "bytes=0-7"}
    )
    assert status == 206 and body == PNG[:8]
    # the token is not in nginx's access log
    token = download.split("t=", 1)[1].split("&")[0]
    assert token not in box.sudo("cat /var/log/nginx/access.log").stdout


def test_live_streams_reconnect_and_replay_across_a_deploy(site, session):
    box, inventory = site
    org = call(box, session, "POST", "/orgs", {"name": "Stream Client"})
    project = call(box, session, "POST", "/projects", {"name": "Live", "client_org_id": org["id"]})
    path = f"/api/projects/{project['id']}/events"
    stream = open_stream(box.machine.address, DOMAIN, path, {"Cookie": session["Cookie"]})
    assert stream.status == 200
    call(box, session, "PATCH", f"/projects/{project['id']}", {"name": "Live 1"})
    seen = event_ids(stream)

    outcome: dict[str, subprocess.CompletedProcess] = {}
    deploying = threading.Thread(target=lambda: outcome.update(result=deploy(inventory)))
    deploying.start()
    # the old nginx worker closes the stream once the switch is done (worker_shutdown_timeout)
    seen += event_ids(stream, until_closed=True)
    deploying.join()
    assert outcome["result"].returncode == 0, outcome["result"].stderr[-3000:]

    # a change made while the browser was away is replayed on reconnect
    call(box, session, "PATCH", f"/projects/{project['id']}", {"name": "Live 2"})
    again = open_stream(
        box.machine.address,
        DOMAIN,
        path,
        {"Cookie": session["Cookie"], "Last-Event-ID": str(seen[-1])},
    )
    assert again.status == 200
    replayed = event_ids(again)
    again.close()
    assert replayed and replayed[0] > seen[-1]


def test_expand_migration_keeps_the_previous_release_working(site, expanded):
    box, inventory = site
    old = current(inventory)
    result = deploy(inventory, "--source", str(expanded))
    assert result.returncode == 0, result.stderr[-3000:]
    columns = box.sudo(
        "python3 -c \"import sqlite3; c = sqlite3.connect('/var/lib/eyeshots/eyeshots.db');"
        " print([r[1] for r in c.execute('pragma table_info(projects)')])\""
    ).stdout
    assert "deploytest_note" in columns

    rolled = eyeshots("rollback", "-i", inventory)
    assert rolled.returncode == 0, rolled.stderr[-3000:]
    assert current(inventory) == old and live_version(box) == old
    # the previous release reads and writes the expanded schema
    assert serves_the_app(box)
    assert box.sudo("curl -sf http://127.0.0.1:8000/readyz").stdout.strip() == "ready"


def test_failed_migration_stops_the_deploy_with_the_old_release_serving(site, expanded, tmp_path):
    box, inventory = site
    old, installed = current(inventory), len(releases(inventory))
    tree = shutil.copytree(expanded, tmp_path / "broken")
    add_migration(tree, "9002_broken", "raise RuntimeError('deliberately broken migration')")
    result = deploy(inventory, "--source", str(tree))
    assert result.returncode == 1
    assert "migrations of" in result.stderr and "keeps serving" in result.stderr
    assert current(inventory) == old and serves_the_app(box)
    assert len(releases(inventory)) == installed


def test_unhealthy_release_is_stopped_and_the_old_one_keeps_serving(site, expanded, tmp_path):
    box, inventory = site
    old, installed = current(inventory), len(releases(inventory))
    tree = shutil.copytree(expanded, tmp_path / "sick")
    main = tree / "app" / "main.py"
    main.write_text(
        main.read_text().replace(
            'return PlainTextResponse("ready\\n")',
            'return PlainTextResponse("never ready\\n", 503)',
        )
    )
    result = deploy(inventory, "--source", str(tree), "--health-timeout", "5")
    assert result.returncode == 1
    assert "failed its health check" in result.stderr and "/readyz" in result.stderr, result.stderr
    assert current(inventory) == old and serves_the_app(box)
    # nothing of the failed release is left: no files, no running instance
    assert len(releases(inventory)) == installed
    running = box.sudo("systemctl list-units --state=active --no-legend 'eyeshots-app@*'").stdout
    assert running.count("eyeshots-app@") == 1 and old in running


def test_a_wheel_that_differs_from_the_lock_is_refused(site):
    """Supply chain: the server installs with pip --require-hashes against uv.lock's hashes; a
    wheel tampered with in its wheelhouse stops the deploy before anything changes."""
    box, inventory = site
    old, installed = current(inventory), len(releases(inventory))
    (wheel,) = box.sudo("ls /opt/eyeshots/wheels/six-*.whl").stdout.split()
    box.sudo(f"cp -p {wheel} /root/six.orig && printf tampered >> {wheel}")
    try:
        result = deploy(inventory)
    finally:
        box.sudo(f"mv /root/six.orig {wheel}")
    assert result.returncode != 0
    assert "six==" in result.stderr and "differs from uv.lock's hash" in result.stderr, (
        result.stderr[-3000:]
    )
    assert current(inventory) == old and serves_the_app(box)
    assert len(releases(inventory)) == installed


def test_rollback_switches_to_the_previous_release(site):
    box, inventory = site
    listed = releases(inventory)
    (now,) = [r["version"] for r in listed if r["current"]]
    (before,) = [r["version"] for r in listed if r["previous"]]
    result = eyeshots("rollback", "-i", inventory)
    assert result.returncode == 0, result.stderr[-3000:]
    assert current(inventory) == before and live_version(box) == before
    assert serves_the_app(box)
    text = eyeshots("releases", "-i", inventory)
    assert re.search(rf"{before}\s+current", text.stdout) and now in text.stdout
