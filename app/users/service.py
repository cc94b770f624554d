"""Admin user management and client organisations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import repository as auth_repo
from app.authz.guard import require
from app.authz.policy import Action
from app.core.errors import Conflict, Invalid, NotFound
from app.models import ClientOrg, Role, User, UserKind


def all_users(db: Session, actor: User) -> list[User]:
    require(db, actor, Action.USER_MANAGE)
    return list(db.scalars(select(User).order_by(User.name)))


def internal_users(db: Session) -> list[User]:
    stmt = select(User).where(User.kind == UserKind.INTERNAL, User.is_active).order_by(User.name)
    return list(db.scalars(stmt))


def update_user(
    db: Session, actor: User, user_id: int, role: Role | None, is_active: bool | None
) -> User:
    require(db, actor, Action.USER_MANAGE)
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such user")
    if user.id == actor.id and (is_active is False or (role and role is not Role.ADMIN)):
        raise Conflict("You cannot demote or deactivate yourself; ask another admin")
    changed = False
    if role is not None and role is not user.role:
        if (role is Role.CLIENT) != (user.kind is UserKind.CLIENT):
            raise Invalid("Client and studio roles cannot be swapped", field="role")
        user.role, changed = role, True
    if is_active is not None and is_active != user.is_active:
        user.is_active, changed = is_active, True
    if changed:
        # a new role or a deactivation must take effect now, not at session expiry
        auth_repo.delete_sessions_of(db, user.id)
    return user


def orgs(db: Session, actor: User) -> list[ClientOrg]:
    require(db, actor, Action.ORG_READ)
    return list(db.scalars(select(ClientOrg).order_by(ClientOrg.name)))


def create_org(db: Session, actor: User, name: str) -> ClientOrg:
    require(db, actor, Action.ORG_CREATE)
    name = name.strip()
    if not name:
        raise Invalid("Enter a name", field="name")
    if db.scalar(select(ClientOrg).where(ClientOrg.name == name)) is not None:
        raise Conflict("An organisation with this name exists", field="name")
    org = ClientOrg(name=name[:200])
    db.add(org)
    db.flush()
    return org
