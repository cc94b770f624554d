"""`eyeshots monitoring ...` on any machine: check the alert rules. Rendering the monitoring
configs from the roles is the operator's (provision/monitoring_commands.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import click

from monitoring.config import RULES_DIR


@click.group()
def cli() -> None:
    """Alert rules and Prometheus/Alertmanager/exporter configuration."""


@cli.command("check-rules")
def check_rules() -> None:
    """Validate monitoring/rules/*.yml and run their promtool unit tests."""
    if shutil.which("promtool") is None:
        raise click.ClickException("promtool not found: apt-get install prometheus")
    rules = sorted(str(p) for p in RULES_DIR.glob("*.yml"))
    tests = sorted(str(p) for p in (RULES_DIR / "tests").glob("*.test.yml"))
    for argv in (["promtool", "check", "rules", *rules], ["promtool", "test", "rules", *tests]):
        result = subprocess.run(argv, cwd=RULES_DIR / "tests")
        if result.returncode != 0:
            sys.exit(result.returncode)
