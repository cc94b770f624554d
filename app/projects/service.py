"""Creating and changing projects and their membership."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.authz.guard import project_target, require
from app.authz.policy import Action
from app.core.errors import Conflict, Invalid, NotFound
from app.events import service as events
from app.models import (
    ClientOrg,
    MemberRole,
    Project,
    ProjectMember,
    ProjectStatus,
    User,
    UserKind,
)


def create_project(
    db: Session, user: User, name: str, client_org_id: int, due_date: date | None
) -> Project:
    require(db, user, Action.PROJECT_CREATE)
    name = name.strip()
    if not name:
        raise Invalid("Enter a project name", field="name")
    if db.get(ClientOrg, client_org_id) is None:
        raise Invalid("No such client organisation", field="client_org_id")
    project = Project(name=name, client_org_id=client_org_id, due_date=due_date, created_by=user.id)
    db.add(project)
    db.flush()
    # the creator manages what they create, so a PM keeps access to their own project
    db.add(ProjectMember(project_id=project.id, user_id=user.id, role=MemberRole.MANAGER))
    events.record(db, "project.created", project.id, user, {"name": name})
    return project


def update_project(
    db: Session,
    user: User,
    project: Project,
    name: str | None,
    status: ProjectStatus | None,
    due_date: date | None,
) -> Project:
    require(db, user, Action.PROJECT_UPDATE, project_target(project))
    if name is not None:
        if not name.strip():
            raise Invalid("Enter a project name", field="name")
        project.name = name.strip()
    if status is not None:
        project.status = status
    if due_date is not None:
        project.due_date = due_date
    events.record(db, "project.updated", project.id, user, {"name": project.name})
    return project


def set_member(
    db: Session, user: User, project: Project, member_id: int, role: MemberRole
) -> ProjectMember:
    require(db, user, Action.MEMBERS_MANAGE, project_target(project))
    member = db.get(User, member_id)
    if member is None or not member.is_active:
        raise Invalid("No such user", field="user_id")
    if member.kind is UserKind.CLIENT:
        # clients reach their org's projects through the org, not through membership
        raise Invalid(
            "Clients see their organisation's projects without membership", field="user_id"
        )
    row = db.scalar(
        select(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == member_id
        )
    )
    if row is None:
        row = ProjectMember(project_id=project.id, user_id=member_id, role=role)
        db.add(row)
    else:
        row.role = role
    events.record(db, "member.set", project.id, user, {"user_id": member_id, "role": role.value})
    return row


def remove_member(db: Session, user: User, project: Project, member_id: int) -> None:
    require(db, user, Action.MEMBERS_MANAGE, project_target(project))
    row = db.get(ProjectMember, (project.id, member_id))
    if row is None:
        raise NotFound("That user is not a member of this project")
    if row.role is MemberRole.MANAGER:
        managers = db.scalar(
            select(func.count()).where(
                ProjectMember.project_id == project.id, ProjectMember.role == MemberRole.MANAGER
            )
        )
        if managers <= 1:
            # nobody could manage the team any more, and a PM removing himself loses the project
            raise Conflict(
                "This is the project's only manager: make someone else manager first",
                field="member",
            )
    db.delete(row)
    events.record(db, "member.removed", project.id, user, {"user_id": member_id})
