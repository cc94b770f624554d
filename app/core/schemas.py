"""Pydantic models shared by several domains' API schemas."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field


class ORM(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Problem(BaseModel):
    detail: str
    field: str | None = None


# ids fit every backend's integer column; larger values are a 422, not a database error
MAX_ID = 2**62
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
