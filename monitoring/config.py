"""Render the monitoring roles' templates from their defaults, as both provisioning engines do.

roles/<role>/defaults/main.yml + inventory overrides -> roles/<role>/templates/<name>.j2, with
Ansible's Jinja settings (trim_blocks) so pyinfra and Ansible produce the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import yaml

ROLES = Path(__file__).resolve().parent.parent / "roles"
RULES_DIR = Path(__file__).resolve().parent / "rules"


def role_defaults(role: str) -> dict[str, Any]:
    return yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}


def render(role: str, template: str, **overrides: Any) -> str:
    """The text of roles/<role>/templates/<template>.j2 with defaults updated by overrides."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROLES / role / "templates")),
        trim_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    variables = {**role_defaults(role), **overrides}
    return env.get_template(template + ".j2").render(**variables)
