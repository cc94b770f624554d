"""Rendering roles/*/templates exactly as Ansible's template module does, so both engines write
the same bytes: same Jinja options, same undefined-variable strictness."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2

from provision.paths import ROLES_DIR


def _combine(*dicts: Mapping[str, Any]) -> dict[str, Any]:
    """Ansible's `combine` filter (shallow): later mappings win."""
    merged: dict[str, Any] = {}
    for mapping in dicts:
        merged.update(mapping or {})
    return merged


def _environment() -> jinja2.Environment:
    # Ansible's template module defaults: trim_blocks on, lstrip_blocks off, trailing newline kept.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROLES_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        autoescape=False,
    )
    # Only filters Ansible also has, so a template renders the same under both engines.
    environment.filters["combine"] = _combine
    return environment


_ENV = _environment()


def render(role: str, template: str, variables: Mapping[str, Any]) -> str:
    """Render roles/<role>/templates/<template>."""
    return _ENV.get_template(f"{role}/templates/{template}").render(**variables)


def render_string(text: str, variables: Mapping[str, Any]) -> str:
    return _ENV.from_string(text).render(**variables)
