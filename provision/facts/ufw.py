"""UFW's state, read the way UFW reports it (pyinfra has no UFW support of its own)."""

from __future__ import annotations

import re
from typing import Any

from pyinfra.api import FactBase


class UfwStatus(FactBase[dict[str, Any] | None]):
    """``{"active": bool, "logging": "low", "defaults": {"incoming": "deny", ...}}`` from
    ``ufw status verbose``; None when UFW is not installed."""

    requires_command = "ufw"

    def command(self) -> str:
        return "LC_ALL=C ufw status verbose"

    def process(self, output: list[str]) -> dict[str, Any]:
        status: dict[str, Any] = {"active": False, "logging": "off", "defaults": {}}
        for line in output:
            if line.startswith("Status:"):
                status["active"] = line.split(":", 1)[1].strip() == "active"
            elif line.startswith("Logging:"):
                value = line.split(":", 1)[1].strip()
                match = re.match(r"on \((\w+)\)", value)
                status["logging"] = match[1] if match else "off"
            elif line.startswith("Default:"):
                for policy, direction in re.findall(r"(\w+) \((\w+)\)", line):
                    status["defaults"][direction] = policy
        return status


class UfwRules(FactBase[list[str]]):
    """The user rules as ``ufw show added`` prints them, without the leading ``ufw``
    (works whether or not the firewall is active)."""

    requires_command = "ufw"

    def command(self) -> str:
        return "LC_ALL=C ufw show added"

    def process(self, output: list[str]) -> list[str]:
        return [line[4:].strip() for line in output if line.startswith("ufw ")]
