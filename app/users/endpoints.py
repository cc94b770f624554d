"""JSON API for admin user management."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth.schemas import UserOut
from app.core.deps import DB, CurrentUser
from app.core.schemas import IdPath
from app.users import service
from app.users.schemas import UserPatch

router = APIRouter(tags=["users"])


@router.get("/users", response_model=list[UserOut])
def list_users(user: CurrentUser, db: DB) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in service.all_users(db, user)]


@router.patch("/users/{user_id}", response_model=UserOut)
def patch_user(user_id: IdPath, body: UserPatch, user: CurrentUser, db: DB) -> UserOut:
    return UserOut.model_validate(service.update_user(db, user, user_id, body.role, body.is_active))
