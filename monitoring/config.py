"""Render the monitoring roles' templates from their defaults, as both provisioning engines do.

roles/<role>/defaults/main.yml + overrides -> roles/<role>/templates/<name>.j2, through the
project's one Jinja environment (provision.templating), so the bytes match what a provision
writes on the host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from provision.paths import ROLES_DIR
from provision.templating import render as render_template

RULES_DIR = Path(__file__).resolve().parent / "rules"


def role_defaults(role: str) -> dict[str, Any]:
    return yaml.safe_load((ROLES_DIR / role / "defaults" / "main.yml").read_text()) or {}


def render(role: str, template: str, **overrides: Any) -> str:
    """The text of roles/<role>/templates/<template>.j2 with defaults updated by overrides."""
    return render_template(role, f"{template}.j2", {**role_defaults(role), **overrides})
