"""The platform's systemd units (roles app, files, exporter, backup) rendered from the role defaults
as a provision writes them: systemd 252 accepts every line, each command line parses with the
real CLI, and `systemd-analyze security --offline` scores every service at exposure <= 2.0."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from provision.inventory import InventoryHost, resolve, role_defaults
from provision.paths import PROJECT_ROOT, ROLES_DIR
from provision.templating import render
from provision.validation import problems

ROLES = ("app", "files", "exporter", "backup")
# a release version as `eyeshots deploy` makes them: the instance name of the template units
VERSION = "20261126201501-2ba2564"
SERVICES = {
    "eyeshots-app@.service": "app",
    "eyeshots-app-cleanup.service": "app",
    "eyeshots-files@.service": "files",
    "eyeshots-files-cleanup.service": "files",
    "eyeshots-exporter.service": "exporter",
    "eyeshots-backup.service": "backup",
    "eyeshots-backup-drill.service": "backup",
}
TIMERS = {
    "eyeshots-app-cleanup.timer": "app",
    "eyeshots-files-cleanup.timer": "files",
    "eyeshots-backup.timer": "backup",
    "eyeshots-backup-drill.timer": "backup",
}
MAX_EXPOSURE = 2.0
# the console scripts a release's venv has: program -> "module:function"
SCRIPTS = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def variables(**overrides: Any) -> dict[str, Any]:
    """Every role's defaults resolved as the inventory loader does for a host."""
    defaults, origins = role_defaults()
    return resolve({**defaults, "inventory_hostname": "unitcheck", **overrides}, origins)


def unit_name(template_unit: str) -> str:
    """eyeshots-app@.service -> eyeshots-app@<version>.service; others unchanged."""
    return template_unit.replace("@.", f"@{VERSION}.")


def render_units(directory: Path, **overrides: Any) -> dict[str, Path]:
    """Write every unit of the service roles into `directory`; unit name -> file."""
    values = variables(**overrides)
    written = {}
    for template_unit, role in {**SERVICES, **TIMERS}.items():
        path = directory / unit_name(template_unit)
        path.write_text(render(role, f"{template_unit}.j2", values))
        written[template_unit] = path
    return written


def exec_start(text: str) -> list[str]:
    """The ExecStart= command line of a unit, continuation lines joined."""
    line = re.search(r"^ExecStart=(.*?)(?<!\\)$", text, re.M | re.S)
    assert line, text
    return shlex.split(line.group(1).replace("\\\n", " "))


@pytest.fixture(scope="module")
def units(tmp_path_factory) -> dict[str, Path]:
    return render_units(tmp_path_factory.mktemp("units"))


def test_every_unit_template_of_the_roles_is_known():
    templates = {
        t.name.removesuffix(".j2")
        for role in ROLES
        for t in (ROLES_DIR / role / "templates").glob("*.j2")
        if t.name.endswith((".service.j2", ".timer.j2"))
    }
    assert templates == set(SERVICES) | set(TIMERS)


def test_role_defaults_pass_their_argument_specs():
    defaults, origins = role_defaults()
    host = InventoryHost("unitcheck", ["eyeshots"], variables(), origins)
    assert problems(host) == []
    for role in ROLES:
        spec = (ROLES_DIR / role / "meta" / "argument_specs.yml").read_text()
        own = (ROLES_DIR / role / "defaults" / "main.yml").read_text()
        names = re.findall(r"^([a-z_]+):", own, re.M)
        assert names, role
        for name in names:
            assert f" {name}: {{" in spec, f"{name} missing from roles/{role}/meta"
            assert origins[name].parent.parent.name == role, f"{name} is defined twice"
        # every group of variables (lines between blank lines) opens with a comment saying why
        for block in re.split(r"\n\s*\n", own):
            lines = [line for line in block.splitlines() if line.strip() and line != "---"]
            if any(re.match(r"[a-z_]+:", line) for line in lines):
                assert lines[0].startswith("#"), f"roles/{role}/defaults: {lines[0]} has no comment"


def test_systemd_accepts_every_line(units):
    result = subprocess.run(
        ["systemd-analyze", "verify", *map(str, units.values())], capture_output=True, text=True
    )
    # The releases are not installed here: every other complaint (an unknown or misspelt key, a
    # bad value, a timer without its service) is a real defect.
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and not re.search(r": Command /opt/eyeshots/\S+ is not executable", line)
    ]
    assert complaints == []


@pytest.mark.parametrize("service", SERVICES)
def test_command_line_parses_with_the_real_cli(units, service):
    argv = exec_start(units[service].read_text())
    program = Path(argv[0]).name
    assert argv[0].startswith("/opt/eyeshots/"), argv
    # a server's units never start the operator's command (its tools are not on a server)
    assert program != "eyeshots" and SCRIPTS[program] != SCRIPTS["eyeshots"], argv
    module, function = SCRIPTS[program].split(":")
    # systemd substitutes the port from the release's instance.env
    args = [re.sub(r"\$\{EYESHOTS_\w+_PORT\}", "8101", a) for a in argv[1:]]
    result = subprocess.run(
        [sys.executable, "-c", f"from {module} import {function}; {function}()", *args, "--help"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def exposure(unit: Path) -> tuple[float, subprocess.CompletedProcess]:
    # --threshold is exposure x 10: a non-zero exit means worse than MAX_EXPOSURE
    result = subprocess.run(
        [
            "systemd-analyze",
            "security",
            "--offline=true",
            f"--threshold={MAX_EXPOSURE * 10:.0f}",
            "--no-pager",
            str(unit),
        ],
        capture_output=True,
        text=True,
    )
    found = re.search(
        rf"Overall exposure level for {re.escape(unit.name)}: (\d+\.\d+)", result.stdout
    )
    assert found, result.stdout + result.stderr
    return float(found.group(1)), result


@pytest.mark.parametrize("service", list(SERVICES))
def test_sandbox_exposure_at_most_2(units, service):
    score, result = exposure(units[service])
    print(f"\n{unit_name(service)}: exposure {score} (offline)")
    failing = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert score <= MAX_EXPOSURE, "\n".join(failing)
    assert result.returncode == 0, result.stdout[-1500:]


def test_variables_shape_the_units(tmp_path):
    units = render_units(
        tmp_path,
        app_ip_address_allow=[],
        files_ip_address_allow=["localhost", "10.0.0.5/32"],
        backup_keep_daily=0,
        backup_keep_yearly=3,
        backup_sqlite_database="",
        backup_writable_paths=["/srv/restic"],
        backup_credentials={"sftp-key": "/etc/eyeshots/backup-sftp-key"},
        backup_environment={"EYESHOTS_BACKUP_SFTP_KEY": "%d/sftp-key"},
    )
    app = units["eyeshots-app@.service"].read_text()
    assert "IPAddressDeny" not in app and "IPAddressAllow" not in app
    files = units["eyeshots-files@.service"].read_text()
    assert "IPAddressDeny=any\nIPAddressAllow=localhost 10.0.0.5/32\n" in files
    backup = units["eyeshots-backup.service"].read_text()
    argv = exec_start(backup)
    assert "--keep-daily" not in argv and argv[argv.index("--keep-yearly") + 1] == "3"
    assert "--sqlite" not in argv
    assert "\nReadWritePaths=/var/lib/prometheus/node-exporter /srv/restic\n" in backup
    assert "\nLoadCredential=sftp-key:/etc/eyeshots/backup-sftp-key\n" in backup
    assert '\nEnvironment="EYESHOTS_BACKUP_SFTP_KEY=%d/sftp-key"\n' in backup
    # still within the limit with the network opened up
    assert exposure(units["eyeshots-app@.service"])[0] <= MAX_EXPOSURE


def test_units_match_what_the_release_agent_expects(units):
    """provision/server (the deploy's on-server agent) starts, enables and restarts these units
    by name and writes their instance.env, from the layout roles/platform renders for it."""
    from provision.server.layout import LAYOUT_FILE, Layout

    values = variables()
    assert values["platform_layout_file"] == str(LAYOUT_FILE)
    layout = Layout.from_json(render("platform", "layout.json.j2", values))
    assert values["app_releases_dir"] == values["files_releases_dir"] == str(layout.releases)
    assert values["app_current_dir"] == values["files_current_dir"] == str(layout.current)
    for command in (values["backup_command"], values["exporter_command"]):
        assert command.startswith(f"{layout.current}/venv/bin/"), command
    assert [s.name for s in layout.services] == ["app", "files"]
    assert layout.services[0].ports == (8101, 8102) and layout.services[1].ports == (8201, 8202)
    for service in layout.services:
        text = units[f"eyeshots-{service.name}@.service"].read_text()
        assert f"--port ${{EYESHOTS_{service.name.upper()}_PORT}}" in text
        assert f"EnvironmentFile={layout.releases}/%i/instance.env" in text
        for env in layout.app_environment_files:
            assert f"EnvironmentFile={env}" in text
    # the agent restarts every non-template service without Type=oneshot after a switch: only
    # the exporter is such a daemon; the jobs run from their timers
    daemons = [
        name
        for name in SERVICES
        if "@" not in name and "Type=oneshot" not in units[name].read_text()
    ]
    assert daemons == ["eyeshots-exporter.service"]
