"""pyinfra deploys, one module per role in roles/. Each reads its variables from the host's
merged inventory variables (role defaults included) and renders roles/<role>/templates."""

from __future__ import annotations

from typing import Any

from pyinfra import host


def variables() -> dict[str, Any]:
    """This host's variables, as the inventory loader resolved them."""
    return host.data.get("eyeshots_vars")
