"""Pydantic models shared by several domains' API schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ORM(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Problem(BaseModel):
    detail: str
    field: str | None = None
