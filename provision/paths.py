"""Where the operator's machine keeps eyeshots' caches, state and keys (XDG, overridable)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ROLES_DIR = PROJECT_ROOT / "roles"
INVENTORIES_DIR = PROJECT_ROOT / "inventories"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def cache_dir() -> Path:
    """Rebuildable data: the debootstrap images and the shared apt archive."""
    override = os.environ.get("EYESHOTS_CACHE_DIR")
    return Path(override) if override else _xdg("XDG_CACHE_HOME", ".cache") / "eyeshots"


def state_dir() -> Path:
    """Live state: one folder per sandbox machine."""
    override = os.environ.get("EYESHOTS_STATE_DIR")
    return Path(override) if override else _xdg("XDG_STATE_HOME", ".local/state") / "eyeshots"


def config_dir() -> Path:
    """The operator's own settings, including a generated SSH key pair."""
    override = os.environ.get("EYESHOTS_CONFIG_DIR")
    return Path(override) if override else _xdg("XDG_CONFIG_HOME", ".config") / "eyeshots"
