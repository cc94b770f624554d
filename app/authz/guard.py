"""Raise the right error when the policy says no: 404 if the object is not even visible."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.authz.check import Target, allowed
from app.authz.policy import Action
from app.core.errors import Forbidden, NotFound
from app.models import Project, User


def require(db: Session, user: User, action: Action, target: Target | None = None) -> None:
    if not allowed(db, user, action, target):
        raise Forbidden("You are not allowed to do this")


def project_target(project: Project) -> Target:
    return Target(project_id=project.id, client_org_id=project.client_org_id)


def visible_project(db: Session, user: User, project_id: int) -> Project:
    project = db.get(Project, project_id)
    if project is None or not allowed(db, user, Action.PROJECT_READ, project_target(project)):
        raise NotFound("No such project")
    return project
