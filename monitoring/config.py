"""Where monitoring's own files are. Rendering the monitoring roles' templates is the
operator's job (provision/monitoring_commands.py): monitoring never imports the operator's
code, and a server has no roles/ to render from."""

from __future__ import annotations

from pathlib import Path

RULES_DIR = Path(__file__).resolve().parent / "rules"
