"""Admin pages: users, invitations, client organisations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import Response

from app.auth import service as auth_service
from app.authz.guard import require
from app.authz.policy import Action
from app.core.deps import DB, AppSettings, Auth, CurrentPrincipal
from app.core.errors import AppError
from app.core.schemas import IdPath
from app.models import Invitation, Role, utcnow
from app.users import service
from app.web.render import redirect, render

router = APIRouter()


def _page(
    request: Request, principal: CurrentPrincipal, db: DB, status: int = 200, **extra: object
) -> Response:
    users = service.all_users(db, principal.user)
    pending = db.scalars(
        select(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.id.desc())
    ).all()
    orgs = service.orgs(db, principal.user)
    return render(
        request, "admin/users.html", principal, status,
        users=users, pending=pending, orgs=orgs, org_names={o.id: o.name for o in orgs},
        roles=list(Role), **extra,
    )  # fmt: skip


@router.get("/admin/users")
def users_page(request: Request, principal: CurrentPrincipal, db: DB) -> Response:
    return _page(request, principal, db)


@router.post("/admin/invitations")
def invite(
    request: Request, principal: CurrentPrincipal, db: DB, auth: Auth, settings: AppSettings,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[Role, Form()],
    client_org_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    require(db, principal.user, Action.USER_MANAGE)
    org_id = int(client_org_id) if client_org_id.strip().isdigit() else None
    try:
        token = auth_service.create_invitation(db, auth, principal.user, email, role, org_id, None)
    except AppError as error:
        return _page(
            request,
            principal,
            db,
            error.status_code,
            errors={error.field or "invite": error.message},
        )
    link = f"{settings.base_url.rstrip('/')}/invite/{token}"
    request.app.state.mailer.send(email.strip().lower(), "You are invited to Eye Shots", link)
    return _page(request, principal, db, invited_link=link, invited_email=email.strip().lower())


@router.post("/admin/users/{user_id}")
def user_update(
    request: Request, user_id: IdPath, principal: CurrentPrincipal, db: DB,
    role: Annotated[Role | None, Form()] = None,
    is_active: Annotated[str, Form(max_length=5)] = "",
) -> Response:  # fmt: skip
    active = {"true": True, "false": False}.get(is_active)
    try:
        service.update_user(db, principal.user, user_id, role, active)
    except AppError as error:
        if error.status_code in (403, 404):
            raise
        return _page(request, principal, db, error.status_code, errors={"users": error.message})
    return redirect("/admin/users")


@router.post("/admin/orgs")
def org_create(
    request: Request, principal: CurrentPrincipal, db: DB,
    name: Annotated[str, Form(max_length=200)],
) -> Response:  # fmt: skip
    require(db, principal.user, Action.USER_MANAGE)
    try:
        service.create_org(db, principal.user, name)
    except AppError as error:
        return _page(request, principal, db, error.status_code, errors={"org": error.message})
    return redirect("/admin/users")
