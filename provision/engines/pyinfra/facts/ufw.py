"""UFW's state, read the way UFW reports it (pyinfra has no UFW support of its own)."""

from __future__ import annotations

import re
from typing import Any

from pyinfra.api import FactBase

_POLICY_KEYS = {
    "DEFAULT_INPUT_POLICY": "incoming",
    "DEFAULT_OUTPUT_POLICY": "outgoing",
    "DEFAULT_FORWARD_POLICY": "routed",
}
_POLICIES = {"DROP": "deny", "ACCEPT": "allow", "REJECT": "reject"}


class UfwStatus(FactBase[dict[str, Any] | None]):
    """``{"active": bool, "logging": "low", "defaults": {"incoming": "deny", ...}}``; None when
    UFW is not installed. Default policies come from /etc/default/ufw: `ufw status` shows the
    routed policy as "disabled" whenever IP forwarding is off, whatever the policy is."""

    requires_command = "ufw"

    def command(self) -> str:
        return "LC_ALL=C ufw status verbose; echo '--- defaults'; cat /etc/default/ufw"

    def process(self, output: list[str]) -> dict[str, Any]:
        status: dict[str, Any] = {"active": False, "logging": "off", "defaults": {}}
        split = output.index("--- defaults") if "--- defaults" in output else len(output)
        for line in output[:split]:
            if line.startswith("Status:"):
                status["active"] = line.split(":", 1)[1].strip() == "active"
            elif line.startswith("Logging:"):
                match = re.match(r"on \((\w+)\)", line.split(":", 1)[1].strip())
                status["logging"] = match[1] if match else "off"
        for line in output[split + 1 :]:
            key, _, value = line.partition("=")
            if key.strip() in _POLICY_KEYS:
                policy = _POLICIES.get(value.strip().strip('"'), value.strip().strip('"').lower())
                status["defaults"][_POLICY_KEYS[key.strip()]] = policy
        return status


class UfwRules(FactBase[list[str]]):
    """The user rules as ``ufw show added`` prints them, without the leading ``ufw``
    (works whether or not the firewall is active)."""

    requires_command = "ufw"

    def command(self) -> str:
        return "LC_ALL=C ufw show added"

    def process(self, output: list[str]) -> list[str]:
        return [line[4:].strip() for line in output if line.startswith("ufw ")]
