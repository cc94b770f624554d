"""Checks inventory variables against roles/*/meta/argument_specs.yml before anything runs.

Ansible validates the same specs at role start; doing it here too means a pyinfra provision
reports every bad variable, with the file that set it, before connecting to any host.
"""

from __future__ import annotations

import functools
import re
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


# Formats argument_specs cannot express (Ansible checks these with assert tasks).
_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "eyeshots_domain": (
        re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"),
        "a lower-case DNS name such as app.example.com",
    ),
    "tls_acme_email": (re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "an e-mail address"),
    "admin_user": (re.compile(r"^[a-z_][a-z0-9_-]{0,31}$"), "a lower-case Unix user name"),
}
_PUBLIC_KEY = re.compile(
    r"^(ssh-ed25519|ssh-rsa|sk-ssh-ed25519@openssh.com) [A-Za-z0-9+/=]+( .*)?$"
)


@functools.cache
def specs() -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {}
    for path in sorted(ROLES_DIR.glob("*/meta/argument_specs.yml")):
        options.update(read_yaml(path)["argument_specs"]["main"]["options"])
    return options


@functools.cache
def conditions() -> list[list[Any]]:
    """Every role's `required_if` entries: [variable, value, [variables then required]]."""
    found: list[list[Any]] = []
    for path in sorted(ROLES_DIR.glob("*/meta/argument_specs.yml")):
        found += read_yaml(path)["argument_specs"]["main"].get("required_if", [])
    return found


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
                continue
        if name in _FORMATS and isinstance(value, str) and not _FORMATS[name][0].match(value):
            found.append(f"{name} must be {_FORMATS[name][1]}, got {value!r} ({where})")
    for key, value, required in conditions():
        if host.variables.get(key) == value:
            for name in required:
                if not host.variables.get(name):
                    found.append(
                        f"{name} is required when {key} is {value} (set it in {_where(host.origins.get(name))})"
                    )
    for entry in host.variables.get("admin_authorized_keys") or []:
        if isinstance(entry, str) and not _PUBLIC_KEY.match(entry.strip()):
            found.append(
                f"admin_authorized_keys has {entry[:30]!r}...: not an Ed25519 or RSA public key line "
                f"(ECDSA keys are refused by the hardened sshd) ({_where(host.origins.get('admin_authorized_keys'))})"
            )
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
