"""Render the monitoring roles' templates for a host described only by the role defaults, as a
provision would: every role's defaults resolved by ansible-core (provision.hostvars), the
template rendered by its Templar (provision.templates), so the bytes match the host's.

An operator's command: it reads roles/ from a checkout of the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).resolve().parent / "rules"


def render(role: str, template: str, **overrides: Any) -> str:
    """The text of roles/<role>/templates/<template>.j2, role defaults updated by overrides
    (applied as Ansible extra vars, so variables derived from them follow)."""
    from provision import hostvars, templates
    from provision.errors import OperatorError
    from provision.paths import ROLES_DIR

    if not ROLES_DIR.is_dir():
        raise OperatorError(
            f"{ROLES_DIR} not found: rendering needs the roles of a checkout of the repository "
            "(the operator's side), not an installed release"
        )
    return templates.render(role, f"{template}.j2", hostvars.defaults(overrides).variables)
