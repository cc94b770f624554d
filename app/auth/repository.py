"""Queries for users, sessions, sign-in attempts, invitations and reset tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import Invitation, LoginAttempt, PasswordReset, User, UserSession


def user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == email.strip().lower()))


def session_by_hash(db: Session, token_hash: str, now: datetime) -> UserSession | None:
    return db.scalar(
        select(UserSession).where(
            UserSession.token_hash == token_hash, UserSession.expires_at > now
        )
    )


def delete_session(db: Session, token_hash: str) -> None:
    db.execute(delete(UserSession).where(UserSession.token_hash == token_hash))


def delete_sessions_of(db: Session, user_id: int, keep_hash: str | None = None) -> None:
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_hash:
        stmt = stmt.where(UserSession.token_hash != keep_hash)
    db.execute(stmt)


def recent_failures(db: Session, email: str, ip: str, since: datetime) -> tuple[int, int]:
    by_email = db.scalar(
        select(func.count()).where(LoginAttempt.email == email, LoginAttempt.at > since)
    )
    by_ip = db.scalar(select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.at > since))
    return by_email or 0, by_ip or 0


def clear_failures(db: Session, email: str) -> None:
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == email))


def invitation_by_hash(db: Session, token_hash: str) -> Invitation | None:
    return db.scalar(select(Invitation).where(Invitation.token_hash == token_hash))


def reset_by_hash(db: Session, token_hash: str) -> PasswordReset | None:
    return db.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_hash))
