"""Ansible-format YAML inventories (hosts.yml + group_vars/ + host_vars/), read for pyinfra.

The same directory is what `ansible-playbook -i` reads, so both engines see the same hosts and
variables. Precedence follows Ansible: role defaults < group_vars/all < group_vars/<group>
< host variables in hosts.yml < host_vars/<host>.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from provision.errors import OperatorError
from provision.paths import ROLES_DIR
from provision.templating import render_string


@dataclass
class InventoryHost:
    name: str
    groups: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    # which file last set each variable, so errors can name it
    origins: dict[str, Path] = field(default_factory=dict)


@dataclass
class Inventory:
    directory: Path
    hosts: list[InventoryHost]


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise OperatorError(f"{path}{where}: {problem}; fix the YAML syntax") from None
    except OSError as error:
        raise OperatorError(f"{path}: {error.strerror}") from None


def role_defaults() -> tuple[dict[str, Any], dict[str, Path]]:
    """Every role's defaults/main.yml merged: the lowest-precedence variables."""
    merged: dict[str, Any] = {}
    origins: dict[str, Path] = {}
    for path in sorted(ROLES_DIR.glob("*/defaults/main.yml")):
        data = read_yaml(path)
        merged.update(data)
        origins.update(dict.fromkeys(data, path))
    return merged, origins


def load(location: str | Path) -> Inventory:
    path = Path(location)
    directory = path.parent if path.is_file() else path
    hosts_file = path if path.is_file() else path / "hosts.yml"
    if not hosts_file.is_file():
        raise OperatorError(
            f"no inventory at {location}: expected a directory holding hosts.yml "
            "(see inventories/production/hosts.yml for the format)"
        )
    tree = read_yaml(hosts_file)
    if not isinstance(tree, dict) or "all" not in tree:
        raise OperatorError(f"{hosts_file}: the top level must be `all:` (Ansible YAML inventory)")
    found: dict[str, InventoryHost] = {}
    group_order: list[str] = []
    _walk("all", tree["all"] or {}, [], found, group_order, hosts_file)
    if not found:
        raise OperatorError(
            f"{hosts_file}: no hosts defined; add one under all.children.<group>.hosts"
        )
    defaults, default_origins = role_defaults()
    for host in found.values():
        inline, inline_origins = host.variables, host.origins
        host.variables = {**defaults, "inventory_hostname": host.name}
        host.origins = dict(default_origins)
        for group in [g for g in group_order if g in host.groups]:
            _merge(host, _vars_file(directory / "group_vars", group))
        _merge(host, (inline, inline_origins))
        _merge(host, _vars_file(directory / "host_vars", host.name))
        host.variables = resolve(host.variables, host.origins)
    return Inventory(directory, list(found.values()))


def _walk(
    group: str,
    node: dict[str, Any],
    parents: list[str],
    found: dict[str, InventoryHost],
    order: list[str],
    source: Path,
) -> None:
    if not isinstance(node, dict):
        raise OperatorError(f"{source}: group {group!r} must be a mapping")
    if group not in order:
        order.append(group)
    lineage = [*parents, group]
    for name, host_vars in (node.get("hosts") or {}).items():
        host = found.setdefault(name, InventoryHost(name))
        host.groups.extend(g for g in lineage if g not in host.groups)
        for key, value in (host_vars or {}).items():
            host.variables[key] = value
            host.origins[key] = source
    for key, value in (node.get("vars") or {}).items():
        # group vars inline in hosts.yml apply to every host below the group
        for host in found.values():
            if group in host.groups:
                host.variables.setdefault(key, value)
                host.origins.setdefault(key, source)
    for child, child_node in (node.get("children") or {}).items():
        _walk(child, child_node or {}, lineage, found, order, source)


def _vars_file(folder: Path, name: str) -> tuple[dict[str, Any], dict[str, Path]]:
    candidates = [
        folder / f"{name}.yml",
        folder / f"{name}.yaml",
        *sorted((folder / name).glob("*.yml")),
    ]
    merged: dict[str, Any] = {}
    origins: dict[str, Path] = {}
    for path in candidates:
        if path.is_file():
            data = read_yaml(path)
            if not isinstance(data, dict):
                raise OperatorError(f"{path}: must be a mapping of variable: value")
            merged.update(data)
            origins.update(dict.fromkeys(data, path))
    return merged, origins


def _merge(host: InventoryHost, layer: tuple[dict[str, Any], dict[str, Path]]) -> None:
    values, origins = layer
    host.variables.update(values)
    host.origins.update(origins)


def resolve(variables: dict[str, Any], origins: dict[str, Path]) -> dict[str, Any]:
    """Expand "{{ other_var }}" references the way Ansible does, until nothing changes."""
    resolved = dict(variables)
    for _ in range(10):
        changed = False
        for key, value in resolved.items():
            try:
                new = _render(value, resolved)
            except jinja2.TemplateError as error:
                raise OperatorError(f"{key} in {origins.get(key)}: {error}") from None
            if new != value:
                resolved[key] = new
                changed = True
        if not changed:
            return resolved
    raise OperatorError(
        "inventory variables reference each other in a loop; check their {{ }} uses"
    )


def _render(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str) and "{{" in value:
        return render_string(value, context)
    if isinstance(value, list):
        return [_render(item, context) for item in value]
    if isinstance(value, dict):
        return {key: _render(item, context) for key, item in value.items()}
    return value
