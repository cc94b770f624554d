"""Rendering roles/*/templates exactly as Ansible's template module does, so both engines write
the same bytes: same Jinja options, same undefined-variable strictness."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2

from provision.paths import ROLES_DIR


def _environment() -> jinja2.Environment:
    # Ansible's template module defaults: trim_blocks on, lstrip_blocks off, trailing newline kept.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROLES_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        autoescape=False,
    )


_ENV = _environment()


def render(role: str, template: str, variables: Mapping[str, Any]) -> str:
    """Render roles/<role>/templates/<template>."""
    return _ENV.get_template(f"{role}/templates/{template}").render(**variables)


def render_string(text: str, variables: Mapping[str, Any]) -> str:
    return _ENV.from_string(text).render(**variables)
