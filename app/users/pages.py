"""Admin pages (users, invitations, client organisations, the mail queue) and a project
manager's client invitations on the project page. Every successful form redirects
(POST-redirect-GET); what it produced is shown once through a flash notice."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.auth import invitations
from app.auth import service as auth_service
from app.auth.links import invitation_url
from app.authz.guard import require, visible_project
from app.authz.policy import Action
from app.core.deps import DB, AppSettings, Auth, CurrentPrincipal
from app.core.errors import AppError, NotFound
from app.core.flash import clear_flash, read_flash, set_flash
from app.core.schemas import IdPath
from app.mail import outbox
from app.models import Role, User
from app.users import service
from app.web.render import redirect, render

router = APIRouter()


def _page(
    request: Request, principal: CurrentPrincipal, db: DB, status: int = 200, **extra: object
) -> Response:
    settings = request.app.state.settings
    users = service.all_users(db, principal.user)
    orgs = service.orgs(db, principal.user)
    notice = read_flash(request, settings)
    pending = invitations.pending(db, principal.user)
    response = render(
        request, "admin/users.html", principal, status,
        users=users, orgs=orgs, org_names={o.id: o.name for o in orgs}, roles=list(Role),
        pending=[(i, invitations.grants(db, i)) for i in pending], mail=outbox.recent(db),
        notice=notice, **extra,
    )  # fmt: skip
    clear_flash(request, response, settings)
    return response


def _done(path: str, settings: AppSettings, **notice: str) -> Response:
    response = redirect(path)
    set_flash(response, settings, **notice)
    return response


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
        invitation, token = invitations.create(db, auth, principal.user, email, role, org_id, None)
    except AppError as error:
        return _page(request, principal, db, error.status_code,
                     errors={error.field or "invite": error.message})  # fmt: skip
    return _done("/admin/users", settings, invited_email=invitation.email,
                 invited_link=invitation_url(settings, token))  # fmt: skip


@router.post("/admin/invitations/{invitation_id}/revoke")
def revoke(
    invitation_id: IdPath, principal: CurrentPrincipal, db: DB, settings: AppSettings
) -> Response:
    require(db, principal.user, Action.USER_MANAGE)
    invitation = invitations.revoke(db, principal.user, invitation_id)
    return _done("/admin/users", settings, message=f"Invitation for {invitation.email} revoked.")


@router.post("/admin/users/{user_id}/password-reset")
def send_reset(
    user_id: IdPath, principal: CurrentPrincipal, db: DB, auth: Auth, settings: AppSettings
) -> Response:
    require(db, principal.user, Action.USER_MANAGE)
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("No such active user")
    queued = auth_service.send_reset_link(db, auth, user, by_admin=True)
    message = (f"A password reset link for {user.email} is queued (see Outgoing mail)." if queued
               else f"{user.email} got the most reset links an hour allows; try later.")  # fmt: skip
    return _done("/admin/users", settings, message=message)


@router.post("/admin/mail/{mail_id}/retry")
def retry_mail(
    mail_id: IdPath, principal: CurrentPrincipal, db: DB, settings: AppSettings
) -> Response:
    require(db, principal.user, Action.USER_MANAGE)
    if not outbox.retry_now(db, mail_id):
        raise NotFound("No such unsent mail")
    return _done("/admin/users", settings, message="The mail will be tried again now.")


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


@router.post("/projects/{project_id}/invitations")
def project_invite(
    project_id: IdPath, principal: CurrentPrincipal, db: DB, auth: Auth, settings: AppSettings,
    email: Annotated[str, Form(max_length=320)],
) -> Response:  # fmt: skip
    """A client contact of the project's organisation (admins and the project's managers)."""
    visible_project(db, principal.user, project_id)
    back = f"/projects/{project_id}"
    try:
        invitation, token = invitations.create(db, auth, principal.user, email, Role.CLIENT, None,
                                               project_id)  # fmt: skip
    except AppError as error:
        if error.status_code in (403, 404) or error.field == "project_id":
            raise
        return _done(back, settings, invite_error=error.message)
    return _done(back, settings, invited_email=invitation.email,
                 invited_link=invitation_url(settings, token))  # fmt: skip


@router.post("/projects/{project_id}/invitations/{invitation_id}/revoke")
def project_revoke(
    project_id: IdPath, invitation_id: IdPath, principal: CurrentPrincipal, db: DB,
    settings: AppSettings,
) -> Response:  # fmt: skip
    pending = invitations.pending(db, principal.user, project_id)
    if invitation_id not in {i.id for i in pending}:
        raise NotFound("No such pending invitation")
    invitation = invitations.revoke(db, principal.user, invitation_id)
    return _done(f"/projects/{project_id}", settings,
                 message=f"Invitation for {invitation.email} revoked.")  # fmt: skip
