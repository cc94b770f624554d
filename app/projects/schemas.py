from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from app.core.schemas import ORM, DbId
from app.models import MemberRole, ProjectStatus


class ProjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    client_org_id: DbId
    due_date: date | None = None


class ProjectPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: ProjectStatus | None = None
    due_date: date | None = None


class ProjectOut(ORM):
    id: int
    name: str
    client_org_id: DbId
    status: ProjectStatus
    due_date: date | None
    created_at: datetime


class MemberIn(BaseModel):
    role: MemberRole


class MemberOut(BaseModel):
    user_id: DbId
    name: str
    email: str
    role: MemberRole


class OrgIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class OrgOut(ORM):
    id: int
    name: str
