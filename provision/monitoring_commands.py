"""`eyeshots monitoring`, on the operator's machine: monitoring's own commands plus `render`,
which prints a monitoring config rendered from roles/*/defaults and templates as a provision
would: every role's defaults resolved by ansible-core (provision.hostvars), the template rendered
by its Templar (provision.templates), so the bytes match what a provision writes on the host."""

from __future__ import annotations

from typing import Any

import click
import yaml

from monitoring.cli import cli as monitoring_cli
from provision import hostvars, templates
from provision.errors import OperatorError
from provision.paths import ROLES_DIR

TEMPLATES = {
    "prometheus.yml": "prometheus",
    "alertmanager.yml": "prometheus",
    "prometheus.default": "prometheus",
    "prometheus-alertmanager.default": "prometheus",
    "eyeshots-exporter.service": "exporter",
    "exporter-web.yml": "exporter",
}


def render(role: str, template: str, **overrides: Any) -> str:
    """The text of roles/<role>/templates/<template>.j2, role defaults updated by overrides
    (applied as Ansible extra vars, so variables derived from them follow)."""
    if not ROLES_DIR.is_dir():
        raise OperatorError(
            f"{ROLES_DIR} not found: rendering needs the roles of a checkout of the repository "
            "(the operator's side), not an installed release"
        )
    return templates.render(role, f"{template}.j2", hostvars.defaults(overrides).variables)


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
