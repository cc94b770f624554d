"""Sign-in, sessions, invitations and password resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.auth import repository as repo
from app.core.errors import Conflict, Invalid, NotAuthenticated, NotFound, Throttled
from app.core.security import Passwords, hash_token, new_token, password_problem
from app.core.settings import Settings
from app.models import (
    ClientOrg,
    Invitation,
    LoginAttempt,
    MemberRole,
    PasswordReset,
    Project,
    ProjectMember,
    Role,
    User,
    UserKind,
    UserSession,
    utcnow,
)

RESETS_PER_HOUR = 3


@dataclass
class AuthContext:
    """What the auth service needs from the running app."""

    settings: Settings
    passwords: Passwords


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 320 or " " in email:
        raise Invalid("is not a valid email address", field="email")
    return email


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise Invalid(f"Password {problem}", field="password")


def authenticate(db: Session, ctx: AuthContext, email: str, password: str, ip: str) -> User:
    email = email.strip().lower()
    window = utcnow() - timedelta(seconds=ctx.settings.login_window_seconds)
    limit = ctx.settings.login_max_failures
    by_email, by_ip = repo.recent_failures(db, email, ip, window)
    # one address may try a few accounts (shared office NAT) but not sweep many
    if by_email >= limit or by_ip >= limit * 4:
        raise Throttled("Too many failed sign-ins; wait 15 minutes and try again")
    user = repo.user_by_email(db, email)
    ok, new_hash = ctx.passwords.verify(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        db.add(LoginAttempt(email=email, ip=ip))
        # recorded even though the caller will not commit a successful request
        db.commit()
        raise NotAuthenticated("Wrong email or password")
    if new_hash:
        user.password_hash = new_hash
    repo.clear_failures(db, email)
    return user


def start_session(
    db: Session, ctx: AuthContext, user: User, user_agent: str | None, ip: str | None
) -> str:
    token = new_token()
    db.add(
        UserSession(
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(days=ctx.settings.session_days),
            user_agent=(user_agent or "")[:500],
            ip=ip,
        )
    )
    return token


def resolve_session(db: Session, token: str) -> tuple[User, str] | None:
    token_hash = hash_token(token)
    session = repo.session_by_hash(db, token_hash, utcnow())
    if session is None:
        return None
    user = db.get(User, session.user_id)
    if user is None or not user.is_active:
        return None
    return user, token_hash


def end_session(db: Session, token_hash: str) -> None:
    repo.delete_session(db, token_hash)


def change_password(
    db: Session, ctx: AuthContext, user: User, current: str, new: str, keep_hash: str
) -> None:
    ok, _ = ctx.passwords.verify(current, user.password_hash)
    if not ok:
        raise Invalid("Current password is wrong", field="current_password")
    _check_password(new)
    user.password_hash = ctx.passwords.hash(new)
    repo.delete_sessions_of(db, user.id, keep_hash=keep_hash)


def create_invitation(
    db: Session,
    ctx: AuthContext,
    inviter: User,
    email: str,
    role: Role,
    client_org_id: int | None,
    project_id: int | None,
) -> str:
    email = normalise_email(email)
    if repo.user_by_email(db, email) is not None:
        raise Conflict("A user with this email already exists", field="email")
    if role is Role.CLIENT:
        if client_org_id is None or db.get(ClientOrg, client_org_id) is None:
            raise Invalid("Choose the client organisation to invite into", field="client_org_id")
    else:
        client_org_id = None
    if project_id is not None:
        project = db.get(Project, project_id)
        if project is None:
            raise Invalid("No such project", field="project_id")
        if role is Role.CLIENT and project.client_org_id != client_org_id:
            raise Invalid("The project belongs to another organisation", field="project_id")
    token = new_token()
    db.add(
        Invitation(
            email=email,
            role=role,
            client_org_id=client_org_id,
            project_id=project_id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(days=ctx.settings.invitation_days),
            invited_by=inviter.id,
        )
    )
    return token


def open_invitation(db: Session, token: str) -> Invitation:
    invitation = repo.invitation_by_hash(db, hash_token(token))
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at < utcnow():
        raise NotFound("This invitation link is invalid, used or expired; ask for a new one")
    return invitation


def accept_invitation(db: Session, ctx: AuthContext, token: str, name: str, password: str) -> User:
    invitation = open_invitation(db, token)
    name = name.strip()
    if not name:
        raise Invalid("Enter your name", field="name")
    _check_password(password)
    if repo.user_by_email(db, invitation.email) is not None:
        raise Conflict("An account with this email already exists; sign in instead")
    # single use even under a double submit: only one UPDATE can match accepted_at IS NULL
    claimed = db.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise NotFound("This invitation link is invalid, used or expired; ask for a new one")
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


def request_password_reset(db: Session, ctx: AuthContext, email: str) -> str | None:
    """Returns the token to mail, or None; the caller answers the same either way."""
    user = repo.user_by_email(db, email)
    if user is None or not user.is_active:
        return None
    # a mailbox is not a target to flood: beyond a few links an hour, answer but send nothing
    recent = db.scalar(
        select(func.count()).where(
            PasswordReset.user_id == user.id,
            PasswordReset.created_at > utcnow() - timedelta(hours=1),
        )
    )
    if recent >= RESETS_PER_HOUR:
        return None
    token = new_token()
    db.add(
        PasswordReset(
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(minutes=ctx.settings.reset_minutes),
        )
    )
    return token


def reset_password(db: Session, ctx: AuthContext, token: str, password: str) -> User:
    reset = repo.reset_by_hash(db, hash_token(token))
    if reset is None or reset.used_at is not None or reset.expires_at < utcnow():
        raise NotFound("This reset link is invalid, used or expired; request a new one")
    _check_password(password)
    claimed = db.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise NotFound("This reset link is invalid, used or expired; request a new one")
    user = db.get(User, reset.user_id)
    user.password_hash = ctx.passwords.hash(password)
    # whoever had the old password loses every session
    repo.delete_sessions_of(db, user.id)
    db.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return user


def create_admin(db: Session, ctx: AuthContext, email: str, name: str, password: str) -> User:
    email = normalise_email(email)
    _check_password(password)
    if repo.user_by_email(db, email) is not None:
        raise Conflict(f"A user with email {email} already exists")
    user = User(
        email=email,
        name=name.strip() or email,
        kind=UserKind.INTERNAL,
        role=Role.ADMIN,
        password_hash=ctx.passwords.hash(password),
    )
    db.add(user)
    db.flush()
    return user


def purge_expired(db: Session, ctx: AuthContext) -> dict[str, int]:
    """Deletes sessions, tokens and sign-in failures that can no longer matter."""
    from sqlalchemy import delete

    now = utcnow()
    window = now - timedelta(seconds=ctx.settings.login_window_seconds)
    counts = {
        "sessions": db.execute(delete(UserSession).where(UserSession.expires_at <= now)).rowcount,
        "invitations": db.execute(
            delete(Invitation).where(Invitation.expires_at <= now, Invitation.accepted_at.is_(None))
        ).rowcount,
        "password_resets": db.execute(
            delete(PasswordReset).where(
                (PasswordReset.expires_at <= now) | PasswordReset.used_at.is_not(None)
            )
        ).rowcount,
        "login_attempts": db.execute(
            delete(LoginAttempt).where(LoginAttempt.at <= window)
        ).rowcount,
    }
    return counts
