"""Evaluates the policy table against one object, or turns it into a SQL filter for listings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, select, true
from sqlalchemy.orm import Session

from app.authz.policy import Action, Scope, scope_of
from app.models import InvoiceStatus, MemberRole, Project, ProjectMember, User

ISSUED = (InvoiceStatus.SENT, InvoiceStatus.PAID)


@dataclass(frozen=True)
class Target:
    """What a scope needs to know about the object acted on."""

    project_id: int | None = None
    client_org_id: int | None = None
    invoice_status: InvoiceStatus | None = None
    version_approved: bool = False


def membership(db: Session, user: User, project_id: int | None) -> MemberRole | None:
    if project_id is None:
        return None
    return db.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user.id
        )
    )


def allowed(db: Session, user: User | None, action: Action, target: Target | None = None) -> bool:
    if user is None or not user.is_active:
        return False
    scope = scope_of(user.role, action)
    if scope is None:
        return False
    if scope is Scope.ALL:
        return True
    if target is None:
        return False
    if scope is Scope.ORG:
        return user.client_org_id is not None and user.client_org_id == target.client_org_id
    if scope is Scope.ORG_ISSUED:
        return (
            user.client_org_id is not None
            and user.client_org_id == target.client_org_id
            and target.invoice_status in ISSUED
        )
    if scope is Scope.ORG_APPROVED:
        return (
            user.client_org_id is not None
            and user.client_org_id == target.client_org_id
            and target.version_approved
        )
    role = membership(db, user, target.project_id)
    if scope is Scope.MEMBER:
        return role is not None
    return role is MemberRole.MANAGER


def project_filter(user: User, action: Action) -> ColumnElement[bool]:
    """WHERE clause over Project selecting the projects on which `action` is allowed."""
    scope = scope_of(user.role, action) if user.is_active else None
    if scope is None:
        return false()
    if scope is Scope.ALL:
        return true()
    if scope in (Scope.ORG, Scope.ORG_ISSUED, Scope.ORG_APPROVED):
        return Project.client_org_id == user.client_org_id
    member = [ProjectMember.project_id == Project.id, ProjectMember.user_id == user.id]
    if scope is Scope.MANAGER:
        member.append(ProjectMember.role == MemberRole.MANAGER)
    return exists().where(and_(*member))


def invoice_filter(user: User) -> ColumnElement[bool]:
    """WHERE clause over Invoice selecting the invoices `user` may read."""
    from app.models import Invoice

    scope = scope_of(user.role, Action.INVOICE_READ) if user.is_active else None
    if scope is None:
        return false()
    if scope is Scope.ALL:
        return true()
    if scope in (Scope.ORG, Scope.ORG_ISSUED, Scope.ORG_APPROVED):
        clause = Invoice.client_org_id == user.client_org_id
        return and_(clause, Invoice.status.in_(ISSUED)) if scope is Scope.ORG_ISSUED else clause
    member = [ProjectMember.project_id == Invoice.project_id, ProjectMember.user_id == user.id]
    if scope is Scope.MANAGER:
        member.append(ProjectMember.role == MemberRole.MANAGER)
    return exists().where(and_(*member))
