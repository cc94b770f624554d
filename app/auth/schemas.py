from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import ORM, DbId
from app.core.security import MIN_PASSWORD_LENGTH
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


# what app.auth.service.normalise_email accepts, stated in the contract
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class InvitationIn(BaseModel):
    # a client invitation names its organisation, or a project (whose organisation it is)
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"role": {"const": "client"}}, "required": ["role"]},
        "then": {"anyOf": [
            {"properties": {"client_org_id": {"type": "integer"}}, "required": ["client_org_id"]},
            {"properties": {"project_id": {"type": "integer"}}, "required": ["project_id"]},
        ]},
    })  # fmt: skip

    email: Email
    role: Role
    client_org_id: DbId | None = None
    project_id: DbId | None = None


class InvitationOut(BaseModel):
    id: int
    email: str
    role: Role
    client_org_id: int | None
    organisation: str = Field(description="the client organisation joined; empty for staff")
    project_id: int | None = Field(description="the project the invitation is filed under")
    projects: list[str] = Field(description="names of the projects the new account will see")
    expires_at: datetime


class InvitationCreated(InvitationOut):
    # the one-time link, also mailed to the invitee
    accept_url: str


# a new password: app.core.security.MIN_PASSWORD_LENGTH, stated in the contract too
NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)]


class AcceptIn(BaseModel):
    token: str = Field(max_length=200)
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    password: NewPassword


class ResetRequestIn(BaseModel):
    email: str = Field(max_length=320)


class ResetConfirmIn(BaseModel):
    token: str = Field(max_length=200)
    password: NewPassword


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: NewPassword


class Message(BaseModel):
    detail: str
