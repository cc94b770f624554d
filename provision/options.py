"""Command-line options several operator commands share."""

from __future__ import annotations

import click

inventory_option = click.option(
    "-i",
    "--inventory",
    "inventory_path",
    required=True,
    type=click.Path(),
    help="Inventory directory (e.g. inventories/production).",
)
limit_option = click.option("--limit", default=None, help="Only this inventory host.")
