"""The files a role manages, installed from its `<role>_managed_files` data
(roles/<role>/vars/main.yml): the same list the Ansible tasks loop over."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files

from provision.engines.pyinfra.operations import config, service
from provision.templates import render


def managed(role: str, v: Mapping[str, Any], facts: Mapping[str, Any] | None = None) -> None:
    """Install (or remove) every file of roles/<role>; `facts` are the engine-supplied
    variables the templates read (declared in the role's argument_specs)."""
    variables = {**v, **(facts or {})}
    for entry in v[f"{role}_managed_files"]:
        notify, action = entry.get("notify"), entry.get("action", "reload")
        if entry.get("state", "present") == "absent":
            removed = files.file(name=entry["name"], path=entry["dest"], present=False)
            if notify:
                service.notify(
                    name=f"{notify} owes a {action}",
                    service=notify,
                    action=action,
                    _if=removed.did_change,
                )
            continue
        if entry.get("force") is False and host.get_fact(File, path=entry["dest"]) is not None:
            continue
        config.file(
            name=entry["name"],
            content=render(role, entry["template"], variables),
            dest=entry["dest"],
            mode=entry.get("mode", "0644"),
            user=entry.get("owner", "root"),
            group=entry.get("group", "root"),
            validate=entry.get("validate"),
            secret=entry.get("secret", False),
            notify=notify,
            notify_action=action,
        )
