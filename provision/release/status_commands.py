"""`eyeshots status` and `eyeshots logs`: ad-hoc looks at the servers of an inventory."""

from __future__ import annotations

import json
import time

import click

from provision.options import inventory_option, limit_option
from provision.release import ship
from provision.release.commands import inventory_targets
from provision.remote import Remote, on_each

# what `eyeshots logs SERVICE` shows: journalctl unit patterns (every release's instances)
SERVICES = {
    "app": ["eyeshots-app@*", "eyeshots-app-cleanup.service"],
    "files": ["eyeshots-files@*", "eyeshots-files-cleanup.service"],
    "exporter": ["eyeshots-exporter.service"],
    "backup": ["eyeshots-backup.service", "eyeshots-backup-drill.service"],
    "nginx": ["nginx.service"],
    "prometheus": ["prometheus.service"],
    "alertmanager": ["prometheus-alertmanager.service"],
}


@click.command()
@inventory_option
@limit_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(inventory_path: str, limit: str | None, as_json: bool) -> None:
    """Per host: release, units, disk use, certificate expiry, last backup, updates, reboot."""
    outcome = on_each(inventory_targets(inventory_path, limit), ship.host_status)
    if as_json:
        click.echo(json.dumps(outcome.results, indent=2))
    for name, state in outcome.results.items() if not as_json else ():
        click.echo(f"{name}:")
        if not state:
            click.echo("  nothing deployed yet; run `eyeshots deploy`")
            continue
        click.echo(f"  release   {state['release']} (previous: {state['previous'] or 'none'})")
        for unit in state["units"]:
            flag = "" if unit["active"] in ("active", "inactive") else "   <-- attention"
            click.echo(f"  unit      {unit['unit']:<52} {unit['active']}/{unit['sub']}{flag}")
        for disk in state["disks"]:
            free = disk["free_bytes"] / 2**30
            click.echo(
                f"  disk      {disk['path']:<24} {disk['used_percent']}% used, {free:.1f} GiB free"
            )
        days = state["certificate_days_left"]
        click.echo(f"  tls       {'unreadable' if days is None else f'expires in {days} days'}")
        backup = state["last_backup"]
        click.echo(
            "  backup    "
            + (
                f"last success {backup['age_hours']} h ago ({backup['repository']})"
                if backup
                else "no successful backup yet"
            )
        )
        click.echo(f"  updates   {_updates(state.get('updates'))}")
    outcome.raise_for_failures()


def _updates(found: dict | None) -> str:
    if not found or found["pending"] is None:
        return "unknown (apt-get failed on the host)"
    text = f"{found['pending']} pending ({found['security']} security)"
    since = found["reboot_required_since"]
    if since is not None:
        days = (time.time() - since) / 86400
        text += f", reboot needed for {days:.1f} days"
    return text + ("   <-- attention" if found["security"] or since is not None else "")


@click.command()
@inventory_option
@limit_option
@click.argument("service", type=click.Choice(sorted(SERVICES)), metavar="SERVICE")
@click.option("-n", "--lines", default=100, show_default=True, type=click.IntRange(1, 100000))
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
def logs(inventory_path: str, limit: str | None, service: str, lines: int, follow: bool) -> None:
    """Show a service's journal on each host (all of its release instances)."""
    for target in inventory_targets(inventory_path, limit):
        click.echo(f"==> {target.name}: {service}", err=True)
        with Remote(target) as remote:
            ship.logs(remote, SERVICES[service], lines, follow)
