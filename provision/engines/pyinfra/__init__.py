"""The pyinfra engine: site.py runs roles/<role>.py, one module per Ansible role, each reading
the host's variables as provision.hostvars resolved them (ansible-core) and rendering
roles/<role>/templates through provision.templates (ansible-core's Templar)."""

from __future__ import annotations

from typing import Any

from pyinfra import host


def variables() -> dict[str, Any]:
    """This host's variables, resolved and validated by the operator's process."""
    return host.data.get("eyeshots_vars")
