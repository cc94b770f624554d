"""A host's variables checked against every roles/<role>/meta/argument_specs.yml with Ansible's
own ArgumentSpecValidator, before any connection: the same rules (and conversions, such as
"22" -> 22 for `type: int`) Ansible applies at role start, reported all at once with the file
that set each bad variable and what would be valid."""

from __future__ import annotations

import functools
import re
from typing import Any

from provision.errors import OperatorError
from provision.hostvars import Host, loader, role_names
from provision.paths import ROLES_DIR

# Formats argument_specs cannot express (the Ansible roles check these with assert tasks).
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
_UNSET = "the inventory's group_vars/all.yml"


@functools.cache
def specs() -> dict[str, dict[str, Any]]:
    """Each role's `main` entry point: {role: {"options": ..., "required_if": ...}}."""
    data_loader = loader()
    found = {}
    for role in role_names():
        path = ROLES_DIR / role / "meta" / "argument_specs.yml"
        if path.is_file():
            found[role] = data_loader.load_from_file(str(path))["argument_specs"]["main"]
    return found


def expected(spec: dict[str, Any]) -> str:
    """What a valid value looks like, in the spec's own words."""
    if "choices" in spec:
        return "one of: " + ", ".join(map(str, spec["choices"]))
    kind = spec.get("type", "str")
    return f"a list of {spec['elements']}" if spec.get("elements") else f"a {kind}"


def validate(host: Host) -> list[str]:
    """Every problem with `host`'s variables; converts the valid ones in place as Ansible does."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    variables, found = host.variables, []

    def where(name: str) -> str:
        return host.origins.get(name) or _UNSET

    for role, entry in specs().items():
        options = entry.get("options") or {}
        # Empty counts as unset, so a required variable left "" is reported, not used.
        given = {
            name: variables[name]
            for name in options
            if variables.get(name) is not None and variables.get(name) != ""
        }
        for name, spec in options.items():
            result = ArgumentSpecValidator({name: spec}).validate(
                {name: given[name]} if name in given else {}
            )
            if result.error_messages:
                if name in given:
                    found.append(
                        f"{name} must be {expected(spec)}, got {given[name]!r} ({where(name)}): "
                        f"{result.error_messages[0]}"
                    )
                else:
                    found.append(
                        f"{name} is required for host {host.name} by role {role} "
                        f"(set it in {where(name)})"
                    )
            elif name in given:
                variables[name] = result.validated_parameters[name]
        conditions = entry.get("required_if") or []
        if conditions:
            result = ArgumentSpecValidator(
                {
                    name: {k: v for k, v in spec.items() if k != "required"}
                    for name, spec in options.items()
                },
                required_if=conditions,
            ).validate({name: variables[name] for name in given})
            found += [f"{message} (set them in {_UNSET})" for message in result.error_messages]
    found += _formats(host)
    return found


def _formats(host: Host) -> list[str]:
    found = []
    for name, (pattern, description) in _FORMATS.items():
        value = host.variables.get(name)
        if isinstance(value, str) and value and not pattern.match(value):
            found.append(f"{name} must be {description}, got {value!r} ({host.origins.get(name)})")
    for entry in host.variables.get("admin_authorized_keys") or []:
        if isinstance(entry, str) and not _PUBLIC_KEY.match(entry.strip()):
            found.append(
                f"admin_authorized_keys has {entry[:30]!r}...: not an Ed25519 or RSA public key "
                f"line (ECDSA keys are refused by the hardened sshd) "
                f"({host.origins.get('admin_authorized_keys')})"
            )
    return found


def check(hosts: list[Host]) -> None:
    """Raise one error naming every bad variable of every host."""
    found = [problem for host in hosts for problem in validate(host)]
    if found:
        raise OperatorError("invalid inventory: " + "; ".join(found))
