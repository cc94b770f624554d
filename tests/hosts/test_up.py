"""`eyeshots up`, the README's first command: the local sandbox VPS booted, provisioned and
deployed, then used end to end: the first admin signs in through nginx in a real browser, a
backup runs from its unit and the stock restic restores it, Prometheus scrapes the exporter and
the app."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time

from eyeshots_cli import PROJECT_ROOT, eyeshots
from playwright.sync_api import expect, sync_playwright
from sandboxes import Sandbox
from site_client import PNG, login, request, upload_image

from provision.sandbox.machine import load

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
DOMAIN = "eyeshots.test"
INVENTORY = "inventories/local"


def clean_checkout() -> bool:
    status = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain"], capture_output=True, text=True
    )
    return status.returncode == 0 and not status.stdout.strip()


def sign_in_with_a_browser(address: str, email: str, password: str) -> None:
    base = f"https://{DOMAIN}"
    with sync_playwright() as playwright:
        resolve = f"--host-resolver-rules=MAP {DOMAIN} {address}"
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*ARGS, resolve], headless=True
        )
        try:
            # the sandbox's certificate is self-signed
            page = browser.new_context(ignore_https_errors=True).new_page()
            page.goto(f"{base}/sign-in")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{base}/home")
        finally:
            browser.close()


def prometheus_up(box: Sandbox) -> dict[str, str]:
    """job -> value of `up` as Prometheus on the sandbox sees it."""
    out = box.sudo("curl -sf 'http://127.0.0.1:9090/api/v1/query?query=up'").stdout
    return {r["metric"]["job"]: r["value"][1] for r in json.loads(out)["data"]["result"]}


def test_up_runs_the_whole_platform_on_the_local_sandbox():
    already_there = load("eyeshots") is not None
    try:
        result = eyeshots("up")
        assert result.returncode == 0, result.stderr[-3000:]
        assert "The sandbox VPS is provisioned and deployed" in result.stdout
        assert "eyeshots sandbox ssh eyeshots -u deploy" in result.stdout
        assert "eyeshots admin-password -i inventories/local" in result.stdout
        box = Sandbox("eyeshots", result.stdout)
        assert box.ssh("sudo -n hostname", user="deploy").stdout.strip() == "eyeshots-sandbox"

        # the first admin's password: shown once, never in the deploy's output
        shown = eyeshots("admin-password", "-i", INVENTORY)
        assert shown.returncode == 0, shown.stderr
        email, password = re.search(r"sign in as (\S+) with password (\S+)", shown.stdout).groups()
        assert password not in result.stdout + result.stderr
        twice = eyeshots("admin-password", "-i", INVENTORY)
        # per host through the remote layer: the host's own reason, then the failed hosts named
        assert twice.returncode == 1 and "read already" in twice.stderr
        assert "failed on 1 host(s): sandbox" in twice.stderr
        sign_in_with_a_browser(box.machine.address, email, password)

        # a file up through the file service, down through nginx
        address = box.machine.address
        session = login(address, DOMAIN, email, password)
        version, links = upload_image(address, DOMAIN, session, "First still")
        status, _, body = request(address, DOMAIN, "GET", links["download_url"])
        assert status == 200 and body == PNG

        # the nightly job, run now from its unit; the stock restic reads what it wrote
        box.sudo("systemctl start eyeshots-backup.service")
        assert (
            "eyeshots_backup_last_success_timestamp_seconds"
            in box.sudo("cat /var/lib/prometheus/node-exporter/eyeshots_backup_*.prom").stdout
        )
        box.sudo("DEBIAN_FRONTEND=noninteractive apt-get install -y -q restic >/dev/null")
        restic = "restic -r /var/backups/eyeshots --password-file /etc/eyeshots/backup-password"
        box.sudo(f"{restic} check --read-data")
        box.sudo(f"rm -rf /tmp/restored && {restic} restore latest --target /tmp/restored")
        restored = box.sudo("find /tmp/restored -name 'eyeshots*.db' -size +0").stdout
        assert restored.strip(), "the database copy is missing from the snapshot"
        check = box.sudo(
            "python3 -c "
            + shlex.quote(
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
                " print(c.execute('select email from users').fetchall())"
            )
            + f" {restored.split()[0]}"
        ).stdout
        assert email in check
        # the uploaded file is in the snapshot, byte for byte
        sums = box.sudo("find /tmp/restored -path '*eyeshots/files*' -type f -exec sha256sum {} +")
        assert version["sha256"] in sums.stdout

        # Prometheus scrapes the exporter (job "node", as node-mixin expects) and the app
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            up = prometheus_up(box)
            if up.get("node") == "1" and up.get("eyeshots-app") == "1":
                break
            time.sleep(1)
        assert up.get("node") == "1" and up.get("eyeshots-app") == "1", up

        # the exporter, unprivileged, reads the served certificate's expiry
        metrics = box.sudo("curl -sf http://127.0.0.1:9100/metrics").stdout
        assert re.search(
            r'eyeshots_tls_certificate_not_after_timestamp_seconds\{domain="eyeshots.test"', metrics
        ), [line for line in metrics.splitlines() if "tls" in line]
        assert 'node_systemd_unit_state{name="eyeshots-app@' in metrics

        again = eyeshots("up")
        assert again.returncode == 0, again.stderr[-3000:]
        assert "already running" in again.stderr
        assert "0 operations changed" in again.stdout
        if clean_checkout():
            assert "is live already" in again.stderr
    finally:
        if not already_there:
            assert eyeshots("sandbox", "down", "eyeshots").returncode == 0
