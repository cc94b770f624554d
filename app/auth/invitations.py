"""Invitations: who may invite whom where, what an invitation grants, pending lists, revoking,
and accepting. Admins invite anyone; a project manager invites client contacts only into the
organisation of a project they manage (and sees and revokes those invitations there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.auth import repository as repo
from app.auth.links import invitation_url
from app.auth.service import AuthContext, check_password, normalise_email
from app.authz.check import allowed, project_filter
from app.authz.guard import project_target, require
from app.authz.policy import Action
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.security import hash_token, new_token
from app.mail.outbox import enqueue
from app.models import (
    ClientOrg,
    Invitation,
    MemberRole,
    Project,
    ProjectMember,
    Role,
    User,
    UserKind,
    utcnow,
)

INVALID_LINK = "This invitation link is invalid, used or expired; ask for a new one"


@dataclass(frozen=True)
class Grant:
    """What accepting an invitation gives: a role, maybe an organisation, the projects."""

    org: str
    projects: list[str]


def _managed_project_in_org(db: Session, inviter: User, org_id: int) -> Project | None:
    return db.scalar(
        select(Project)
        .where(Project.client_org_id == org_id, project_filter(inviter, Action.INVITE_CLIENT))
        .order_by(Project.id)
        .limit(1)
    )


def _client_project(
    db: Session, inviter: User, org_id: int | None, project_id: int | None
) -> Project | None:
    """Checks a client invitation's place and the inviter's right to it; the project it is
    filed under (a PM's invitations show on that project's page)."""
    if project_id is not None:
        project = db.get(Project, project_id)
        if project is None:
            raise NotFound("No such project", field="project_id")
        require(db, inviter, Action.INVITE_CLIENT, project_target(project))
        if org_id is not None and project.client_org_id != org_id:
            raise Conflict("The project belongs to another organisation", field="project_id")
        return project
    if allowed(db, inviter, Action.INVITE_CLIENT):
        if org_id is None:  # the schema already requires one of the two
            raise Invalid("Choose the client organisation to invite into", field="client_org_id")
        if db.get(ClientOrg, org_id) is None:
            raise NotFound("No such client organisation", field="client_org_id")
        return None
    project = _managed_project_in_org(db, inviter, org_id) if org_id is not None else None
    if project is None:
        raise Forbidden("You can invite clients only into organisations of projects you manage")
    return project


def create(db: Session, ctx: AuthContext, inviter: User, email: str, role: Role,
           client_org_id: int | None, project_id: int | None) -> tuple[Invitation, str]:  # fmt: skip
    """The invitation and its one-time token; its mail is queued in the same transaction."""
    if role is Role.CLIENT:
        project = _client_project(db, inviter, client_org_id, project_id)
        org_id = project.client_org_id if project is not None else client_org_id
    else:
        require(db, inviter, Action.INVITE_STAFF)
        org_id = None
        project = db.get(Project, project_id) if project_id is not None else None
        if project_id is not None and project is None:
            raise NotFound("No such project", field="project_id")
    email = normalise_email(email)
    if repo.user_by_email(db, email) is not None:
        raise Conflict("A user with this email already exists", field="email")
    token = new_token()
    invitation = Invitation(email=email, role=role, client_org_id=org_id,
                            project_id=project.id if project else None, token_hash=hash_token(token),
                            expires_at=utcnow() + timedelta(days=ctx.settings.invitation_days),
                            invited_by=inviter.id)  # fmt: skip
    db.add(invitation)
    db.flush()
    grant = grants(db, invitation)
    enqueue(db, email, "invitation", "You are invited to Eye Shots", inviter=inviter.name,
            role=role.label, org=grant.org, projects=grant.projects,
            link=invitation_url(ctx.settings, token),
            expires=invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"))  # fmt: skip
    return invitation, token


def grants(db: Session, invitation: Invitation) -> Grant:
    org = db.get(ClientOrg, invitation.client_org_id) if invitation.client_org_id else None
    if invitation.role is Role.CLIENT:
        # a client contact sees every project of their organisation
        stmt = select(Project.name).where(Project.client_org_id == invitation.client_org_id)
        projects = list(db.scalars(stmt.order_by(Project.name)))
    elif invitation.project_id is not None:
        projects = [db.get(Project, invitation.project_id).name]
    else:
        projects = []
    return Grant(org=org.name if org else "", projects=projects)


def pending(db: Session, actor: User, project_id: int | None = None) -> list[Invitation]:
    """Open invitations the actor may see: all for an admin, a PM's managed projects' ones."""
    stmt = select(Invitation).where(
        Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow()
    )
    if project_id is not None:
        stmt = stmt.where(Invitation.project_id == project_id)
    if not allowed(db, actor, Action.INVITE_CLIENT):
        managed = select(Project.id).where(project_filter(actor, Action.INVITE_CLIENT))
        stmt = stmt.where(Invitation.project_id.in_(managed))
    return list(db.scalars(stmt.order_by(Invitation.id.desc())))


def may_list(db: Session, actor: User) -> bool:
    return (
        allowed(db, actor, Action.INVITE_CLIENT)
        or db.scalar(select(Project.id).where(project_filter(actor, Action.INVITE_CLIENT)).limit(1))
        is not None
    )


def revoke(db: Session, actor: User, invitation_id: int) -> Invitation:
    found = [i for i in pending(db, actor) if i.id == invitation_id]
    if not found:
        raise NotFound("No such pending invitation")
    db.execute(delete(Invitation).where(Invitation.id == invitation_id))
    return found[0]


def open_invitation(db: Session, token: str) -> Invitation:
    invitation = repo.invitation_by_hash(db, hash_token(token))
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at < utcnow():
        raise NotFound(INVALID_LINK)
    return invitation


def accept(db: Session, ctx: AuthContext, token: str, name: str, password: str) -> User:
    invitation = open_invitation(db, token)
    name = name.strip()
    if not name:
        raise Invalid("Enter your name", field="name")
    check_password(password)
    if repo.user_by_email(db, invitation.email) is not None:
        raise Conflict("An account with this email already exists; sign in instead")
    # single use even under a double submit: only one UPDATE can match accepted_at IS NULL
    claimed = db.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise NotFound(INVALID_LINK)
    user = User(
        email=invitation.email,
        name=name[:200],
        role=invitation.role,
        kind=UserKind.CLIENT if invitation.role is Role.CLIENT else UserKind.INTERNAL,
        client_org_id=invitation.client_org_id,
        password_hash=ctx.passwords.hash(password),
    )
    db.add(user)
    db.flush()
    if invitation.project_id is not None and invitation.role is not Role.CLIENT:
        member_role = (
            MemberRole.MANAGER if invitation.role is Role.PROJECT_MANAGER else MemberRole.CREATIVE
        )
        db.add(ProjectMember(project_id=invitation.project_id, user_id=user.id, role=member_role))
    return user
