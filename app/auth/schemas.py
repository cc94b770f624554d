from __future__ import annotations

from pydantic import BaseModel, Field

from app.core.schemas import ORM, DbId
from app.models import Role, UserKind


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class UserOut(ORM):
    id: int
    email: str
    name: str
    kind: UserKind
    role: Role
    client_org_id: DbId | None
    is_active: bool


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str


class InvitationIn(BaseModel):
    email: str = Field(max_length=320)
    role: Role
    client_org_id: DbId | None = None
    project_id: DbId | None = None


class InvitationOut(BaseModel):
    email: str
    role: Role
    accept_url: str


class AcceptIn(BaseModel):
    token: str = Field(max_length=200)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=1024)


class ResetRequestIn(BaseModel):
    email: str = Field(max_length=320)


class ResetConfirmIn(BaseModel):
    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class Message(BaseModel):
    detail: str
