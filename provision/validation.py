"""Checks inventory variables against roles/*/meta/argument_specs.yml before anything runs.

Ansible validates the same specs at role start; doing it here too means a pyinfra provision
reports every bad variable, with the file that set it, before connecting to any host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provision.errors import OperatorError
from provision.inventory import InventoryHost, read_yaml
from provision.paths import PROJECT_ROOT, ROLES_DIR

_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
    "path": (str,),
}


def specs() -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {}
    for path in sorted(ROLES_DIR.glob("*/meta/argument_specs.yml")):
        options.update(read_yaml(path)["argument_specs"]["main"]["options"])
    return options


def problems(host: InventoryHost) -> list[str]:
    found = []
    for name, spec in specs().items():
        where = _where(host.origins.get(name))
        value = host.variables.get(name)
        if value is None or value == "":
            if spec.get("required"):
                found.append(f"{name} is required for host {host.name} (set it in {where})")
            continue
        expected = spec.get("type", "str")
        # bool is an int in Python; an int where a bool is wanted is a typo worth reporting
        if not isinstance(value, _TYPES[expected]) or (
            expected == "int" and isinstance(value, bool)
        ):
            found.append(f"{name} must be a {expected}, got {value!r} ({where})")
            continue
        if "choices" in spec and value not in spec["choices"]:
            found.append(
                f"{name} must be one of {', '.join(map(str, spec['choices']))}, got {value!r} ({where})"
            )
        element = spec.get("elements")
        if expected == "list" and element:
            bad = [item for item in value if not isinstance(item, _TYPES[element])]
            if bad:
                found.append(f"{name} must list {element} values, got {bad[0]!r} ({where})")
    return found


def check(hosts: list[InventoryHost]) -> None:
    """Raise one error naming every bad variable of every host."""
    found = [problem for host in hosts for problem in problems(host)]
    if found:
        raise OperatorError("invalid inventory: " + "; ".join(found))


def _where(path: Path | None) -> str:
    if path is None:
        return "the inventory's group_vars/all.yml"
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
