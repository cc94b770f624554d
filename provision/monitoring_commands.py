"""`eyeshots monitoring`, on the operator's machine: monitoring's own commands plus `render`,
which prints a monitoring config rendered from roles/*/defaults and templates, through the
project's one Jinja environment (provision.templating), so the bytes match what a provision
writes on the host."""

from __future__ import annotations

from typing import Any

import click
import yaml

from monitoring.cli import cli as monitoring_cli
from provision.paths import ROLES_DIR
from provision.templating import render as render_template

TEMPLATES = {
    "prometheus.yml": "prometheus",
    "alertmanager.yml": "prometheus",
    "prometheus.default": "prometheus",
    "prometheus-alertmanager.default": "prometheus",
    "eyeshots-exporter.service": "exporter",
    "exporter-web.yml": "exporter",
}


def role_defaults(role: str) -> dict[str, Any]:
    return yaml.safe_load((ROLES_DIR / role / "defaults" / "main.yml").read_text()) or {}


def render(role: str, template: str, **overrides: Any) -> str:
    """The text of roles/<role>/templates/<template>.j2 with defaults updated by overrides."""
    return render_template(role, f"{template}.j2", {**role_defaults(role), **overrides})


@click.command("render")
@click.argument("template", type=click.Choice(sorted(TEMPLATES)))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="VAR=YAML",
    help="Override a role default, e.g. --set 'alertmanager_webhook_urls=[\"https://…\"]'.",
)
def render_command(template: str, overrides: tuple[str, ...]) -> None:
    """Print a monitoring config rendered from roles/*/defaults and templates."""
    values = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"{item!r}: expected VAR=VALUE", param_hint="--set")
        values[key] = yaml.safe_load(raw)
    click.echo(render(TEMPLATES[template], template, **values), nl=False)


monitoring = click.Group(
    "monitoring",
    commands={**monitoring_cli.commands, "render": render_command},
    help=monitoring_cli.help,
)
