"""Sign-in, sessions, invitations and password resets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.auth import repository as repo
from app.auth import throttle
from app.auth.links import reset_url
from app.core.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound, Throttled
from app.core.security import Passwords, hash_token, new_token, password_problem
from app.core.settings import Settings
from app.mail.outbox import enqueue
from app.models import (
    Invitation,
    LoginAttempt,
    PasswordReset,
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


def check_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise Invalid(f"Password {problem}", field="password")


def authenticate(db: Session, ctx: AuthContext, email: str, password: str, ip: str) -> User:
    email = email.strip().lower()
    now = utcnow()
    ip = throttle.network(ip)
    wait = throttle.wait_seconds(db, ctx.settings, email, ip, now)
    if wait > 0:
        seconds = math.ceil(wait)
        raise Throttled(f"Too many failed sign-ins; try again in {seconds} seconds",
                        retry_after=seconds)  # fmt: skip
    user = repo.user_by_email(db, email)
    ok, new_hash = ctx.passwords.verify(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        db.add(LoginAttempt(email=email, ip=ip, at=now))
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
        # a refused re-authentication, not malformed input
        raise Forbidden("Current password is wrong", field="current_password")
    check_password(new)
    user.password_hash = ctx.passwords.hash(new)
    repo.delete_sessions_of(db, user.id, keep_hash=keep_hash)


def request_password_reset(db: Session, ctx: AuthContext, email: str) -> bool:
    """Queues a reset link when the email is an active account's; the caller answers the same
    either way. False when nothing was queued."""
    user = repo.user_by_email(db, email)
    if user is None or not user.is_active:
        return False
    return send_reset_link(db, ctx, user, by_admin=False)


def send_reset_link(db: Session, ctx: AuthContext, user: User, by_admin: bool) -> bool:
    # a mailbox is not a target to flood: beyond a few links an hour, answer but send nothing
    recent = db.scalar(
        select(func.count()).where(
            PasswordReset.user_id == user.id,
            PasswordReset.created_at > utcnow() - timedelta(hours=1),
        )
    )
    if recent >= RESETS_PER_HOUR:
        return False
    token = new_token()
    db.add(
        PasswordReset(
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(minutes=ctx.settings.reset_minutes),
        )
    )
    enqueue(db, user.email, "password_reset", "Reset your Eye Shots password", name=user.name,
            link=reset_url(ctx.settings, token), minutes=ctx.settings.reset_minutes,
            by_admin=by_admin)  # fmt: skip
    return True


def reset_password(db: Session, ctx: AuthContext, token: str, password: str) -> User:
    reset = repo.reset_by_hash(db, hash_token(token))
    if reset is None or reset.used_at is not None or reset.expires_at < utcnow():
        raise NotFound("This reset link is invalid, used or expired; request a new one")
    check_password(password)
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
    check_password(password)
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
