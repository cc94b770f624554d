from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from app.core.schemas import ORM, DbId
from app.models import DecisionKind, Visibility


class Region(BaseModel):
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float | None = Field(default=None, ge=0, le=1)
    h: float | None = Field(default=None, ge=0, le=1)


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=10000)
    visibility: Visibility = Visibility.PUBLIC
    t_start: float | None = Field(default=None, ge=0, le=1e7)
    t_end: float | None = Field(default=None, ge=0, le=1e7)
    region: Region | None = None
    parent_id: DbId | None = None

    @model_validator(mode="after")
    def _range(self) -> CommentIn:
        if self.t_end is not None and (self.t_start is None or self.t_end < self.t_start):
            raise ValueError("t_end needs a t_start and must not come before it")
        return self


class CommentOut(ORM):
    id: int
    version_id: DbId
    parent_id: DbId | None
    author_id: DbId | None
    body: str
    t_start: float | None
    t_end: float | None
    region_x: float | None
    region_y: float | None
    region_w: float | None
    region_h: float | None
    visibility: Visibility
    resolved_at: datetime | None
    created_at: datetime


class DecisionIn(BaseModel):
    decision: DecisionKind
    note: str = Field(default="", max_length=2000)


class DecisionOut(ORM):
    id: int
    version_id: DbId
    reviewer_id: DbId
    decision: DecisionKind
    note: str
    created_at: datetime
