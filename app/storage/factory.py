"""The storage the settings choose (local disk by default)."""

from __future__ import annotations

from app.core.settings import Settings
from app.storage.base import Storage
from app.storage.local import LocalStorage


def storage_from_settings(settings: Settings) -> Storage:
    return LocalStorage(settings.storage_dir)
