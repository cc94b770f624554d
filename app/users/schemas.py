from __future__ import annotations

from pydantic import BaseModel

from app.models import Role


class UserPatch(BaseModel):
    role: Role | None = None
    is_active: bool | None = None
