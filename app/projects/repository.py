"""Project queries; listings are filtered by the policy, never by the caller."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.authz.check import project_filter
from app.authz.policy import Action
from app.models import ClientOrg, Project, ProjectMember, User


def readable_projects(db: Session, user: User) -> list[Project]:
    stmt = (
        select(Project)
        .where(project_filter(user, Action.PROJECT_READ))
        .order_by(Project.due_date.is_(None), Project.due_date, Project.id)
    )
    return list(db.scalars(stmt))


def members(db: Session, project_id: int) -> list[tuple[ProjectMember, User]]:
    stmt = (
        select(ProjectMember, User)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id)
        .order_by(User.name)
    )
    return [(m, u) for m, u in db.execute(stmt)]


def org_names(db: Session) -> dict[int, str]:
    return {org.id: org.name for org in db.scalars(select(ClientOrg))}
