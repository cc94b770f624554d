"""The variables of a host, exactly as Ansible sees them: the one resolver both engines, the
operator's commands and the tests use.

ansible-core reads the inventory (hosts.yml, inline `vars:`, group_vars/, host_vars/), merges
every role's defaults at the lowest precedence (a play over all roles), and resolves the Jinja
in each value with its Templar. Nothing here re-implements Ansible's rules.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provision.errors import OperatorError
from provision.paths import PROJECT_ROOT, ROLES_DIR

if TYPE_CHECKING:
    from ansible.parsing.dataloader import DataLoader

# Ansible's own magic variables that are not configuration: `vars` and `hostvars` are views of
# everything (templating them is costly and circular), the rest describe the play.
_NOT_CONFIGURATION = frozenset(
    {"vars", "hostvars", "groups", "omit", "environment", "play_hosts", "role_names"}
)


@dataclass
class Host:
    name: str
    groups: list[str] = field(default_factory=list)
    # resolved, plain Python values (no Jinja left), ready for JSON
    variables: dict[str, Any] = field(default_factory=dict)
    # "path:line" of the file that set each variable, for error messages
    origins: dict[str, str] = field(default_factory=dict)


@dataclass
class Inventory:
    directory: Path
    hosts: list[Host]


def role_names() -> list[str]:
    """Every role of the project; their defaults apply to every host."""
    return sorted(p.name for p in ROLES_DIR.iterdir() if (p / "defaults" / "main.yml").is_file())


@functools.cache
def _ansible() -> None:
    """ansible-core reads the project's ansible.cfg, and its plugin loader is initialised once,
    before a play is loaded."""
    os.environ.setdefault("ANSIBLE_CONFIG", str(PROJECT_ROOT / "ansible.cfg"))
    # loading the roles parses their tasks, which name modules of the vendored collections
    from provision.vendored_collections import install_collections

    install_collections()
    from ansible import context
    from ansible.module_utils.common.collections import ImmutableDict
    from ansible.plugins.loader import init_plugin_loader

    context.CLIARGS = ImmutableDict()
    init_plugin_loader()


def loader() -> DataLoader:
    from ansible.parsing.dataloader import DataLoader

    _ansible()
    data_loader = DataLoader()
    data_loader.set_basedir(str(PROJECT_ROOT))  # playbook_dir, as for site.yml
    return data_loader


# (host name, resolve(variable) -> value) -> variables the engine adds to that host
EngineVars = Callable[[str, Callable[[str], Any]], dict[str, Any]]


def load(location: str | Path, engine_vars: EngineVars | None = None) -> Inventory:
    """Every host of the inventory at `location` with its resolved variables. `engine_vars`
    adds what only the engine knows (the operator's key, a sandbox's gateway) on top of
    everything, before the variables derived from them are resolved."""
    path = Path(location)
    if not (path / "hosts.yml").is_file() and not path.is_file():
        raise OperatorError(
            f"no inventory at {location}: expected a directory holding hosts.yml "
            "(see inventories/production/hosts.yml for the format)"
        )
    hosts_file = path if path.is_file() else path / "hosts.yml"
    _parse(hosts_file)
    hosts = _resolve([str(path)], engine_vars=engine_vars)
    if not hosts:
        raise OperatorError(
            f"{location}: no hosts defined; add one under all.children.<group>.hosts"
        )
    return Inventory(path.parent if path.is_file() else path, hosts)


def defaults(overrides: dict[str, Any] | None = None, name: str = "role-defaults") -> Host:
    """Host `name` described by the role defaults alone; `overrides` are play vars (above role
    defaults and inventory, so variables derived from them follow)."""
    # "name," is Ansible's inline host-list inventory: one host, no files
    (host,) = _resolve([f"{name},"], overrides)
    return host


def _resolve(
    sources: list[str],
    play_vars: dict[str, Any] | None = None,
    engine_vars: EngineVars | None = None,
) -> list[Host]:
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.playbook.play import Play
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    data_loader = loader()
    try:
        inventory = InventoryManager(loader=data_loader, sources=sources)
        manager = VariableManager(loader=data_loader, inventory=inventory)
        play = Play.load(
            {"hosts": "all", "gather_facts": False, "vars": play_vars or {}, "roles": role_names()},
            variable_manager=manager,
            loader=data_loader,
        )
        found = []
        for host in inventory.get_hosts():
            raw = manager.get_vars(play=play, host=host)
            templar = Templar(loader=data_loader, variables=raw)
            if engine_vars:
                first = templar.template
                raw.update(engine_vars(host.name, lambda name, t=first, r=raw: t(r.get(name))))
                templar = Templar(loader=data_loader, variables=raw)
            names = [name for name in raw if name not in _NOT_CONFIGURATION]
            resolved = {}
            for name in names:
                try:
                    resolved[name] = templar.template(raw[name])
                except AnsibleError as error:
                    raise OperatorError(
                        f"{name} ({origin(raw[name])}): {error.message}; fix its {{{{ }}}} expression"
                    ) from None
            found.append(
                Host(
                    str(host.name),
                    [str(group.name) for group in host.get_groups()],
                    _plain(resolved),
                    {name: origin(raw[name]) for name in names},
                )
            )
        return found
    except AnsibleError as error:
        raise OperatorError(f"{_where(error, ' '.join(sources))}: {error.message}") from None


def _parse(path: Path) -> None:
    """A YAML error in hosts.yml, named with its line (Ansible's inventory plugins only warn)."""
    from ansible.errors import AnsibleError

    try:
        loader().load_from_file(str(path))
    except AnsibleError as error:
        raise OperatorError(
            f"{_where(error, str(path))}: {error.message}; fix the YAML syntax"
        ) from None


def _where(error: Exception, fallback: str) -> str:
    from ansible._internal._datatag._tags import Origin

    found = getattr(error, "obj", None)
    found = found if isinstance(found, Origin) else Origin.get_tag(found)
    return str(found) if found and found.path else fallback


def origin(value: object) -> str:
    """Where a value loaded from YAML was written ("roles/ssh/defaults/main.yml:8")."""
    from ansible._internal._datatag._tags import Origin

    tag = Origin.get_tag(value)
    if tag is None or not tag.path:
        # YAML booleans and nulls carry no origin tag in ansible-core
        return "the inventory's group_vars/host_vars or a role's defaults"
    path = Path(tag.path)
    shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
    return f"{shown}:{tag.line_num}" if tag.line_num else str(shown)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Drop ansible's data tags: the pyinfra process receives these as JSON."""
    return json.loads(json.dumps(values))
