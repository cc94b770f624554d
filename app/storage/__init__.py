"""Where file bytes live. Minimal local backend now; the file service (app/files) extends it."""

from app.storage.base import Storage, StoredObject
from app.storage.local import LocalStorage

__all__ = ["LocalStorage", "Storage", "StoredObject"]
