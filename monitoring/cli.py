"""`eyeshots monitoring ...`: check the alert rules, render the monitoring configs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import click

from monitoring.config import RULES_DIR, render

TEMPLATES = {
    "prometheus.yml": "prometheus",
    "alertmanager.yml": "prometheus",
    "prometheus.default": "prometheus",
    "prometheus-alertmanager.default": "prometheus",
    "eyeshots-exporter.service": "exporter",
    "exporter-web.yml": "exporter",
}


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


@cli.command("render")
@click.argument("template", type=click.Choice(sorted(TEMPLATES)))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="VAR=YAML",
    help="Override a role default, e.g. --set 'alertmanager_webhook_urls=[\"https://…\"]'.",
)
def render_template(template: str, overrides: tuple[str, ...]) -> None:
    """Print a monitoring config rendered from roles/*/defaults and templates."""
    import yaml

    values = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"{item!r}: expected VAR=VALUE", param_hint="--set")
        values[key] = yaml.safe_load(raw)
    click.echo(render(TEMPLATES[template], template, **values), nl=False)
