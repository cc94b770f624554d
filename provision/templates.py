"""roles/<role>/templates rendered by ansible-core's Templar, the way `ansible.builtin.template`
renders them (same Jinja options, filters and None handling), so both engines write the same
bytes."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from provision.hostvars import loader
from provision.paths import ROLES_DIR


@functools.cache
def _loader() -> Any:
    return loader()


def render(role: str, template: str, variables: Mapping[str, Any]) -> str:
    """The text of roles/<role>/templates/<template> for a host with these (resolved) variables."""
    from ansible.template import Templar, trust_as_template

    role_dir = ROLES_DIR / role
    source = role_dir / "templates" / template
    data_loader = _loader()
    templar = Templar(loader=data_loader).copy_with_new_env(
        searchpath=[str(role_dir / "templates"), str(role_dir)],
        available_variables=dict(variables),
    )
    # The template module's defaults: trim_blocks on, lstrip_blocks off, "\n" line ends.
    text = templar.template(
        trust_as_template(data_loader.get_text_file_contents(str(source))),
        escape_backslashes=False,
        overrides=dict(trim_blocks=True, lstrip_blocks=False, newline_sequence="\n"),
    )
    return text or ""
