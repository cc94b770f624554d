"""JSON API for signing in and out, invitations and password resets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth import invitations, service
from app.auth.links import invitation_url
from app.auth.schemas import (
    AcceptIn,
    InvitationCreated,
    InvitationIn,
    InvitationOut,
    LoginIn,
    Message,
    PasswordChangeIn,
    ResetConfirmIn,
    ResetRequestIn,
    SessionOut,
    UserOut,
)
from app.core.cookies import clear_session_cookie, client_ip, set_session_cookie
from app.core.deps import DB, AppSettings, Auth, CurrentPrincipal, CurrentUser
from app.core.errors import Forbidden
from app.core.schemas import MAX_ID, IdPath
from app.core.security import csrf_token, hash_token
from app.models import Invitation

router = APIRouter(prefix="/auth", tags=["auth"])

RESET_REPLY = "If that email belongs to an account, a reset link is on its way"


@router.post("/login", response_model=SessionOut)
def login(
    body: LoginIn, request: Request, response: Response, db: DB, auth: Auth, settings: AppSettings
) -> SessionOut:
    user = service.authenticate(db, auth, body.email, body.password, client_ip(request.client))
    token = service.start_session(
        db, auth, user, request.headers.get("user-agent"), client_ip(request.client)
    )
    set_session_cookie(response, settings, token)
    return SessionOut(
        user=UserOut.model_validate(user),
        csrf_token=csrf_token(settings.secret_key, hash_token(token)),
    )


@router.post("/logout", response_model=Message)
def logout(
    principal: CurrentPrincipal, response: Response, db: DB, settings: AppSettings
) -> Message:
    service.end_session(db, principal.session_hash)
    clear_session_cookie(response, settings)
    return Message(detail="Signed out")


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.post("/password", response_model=Message)
def change_password(
    body: PasswordChangeIn, principal: CurrentPrincipal, db: DB, auth: Auth
) -> Message:
    service.change_password(
        db, auth, principal.user, body.current_password, body.new_password, principal.session_hash
    )
    return Message(detail="Password changed; other sessions were signed out")


def _invitation_out(db: DB, invitation: Invitation) -> InvitationOut:
    grant = invitations.grants(db, invitation)
    return InvitationOut(id=invitation.id, email=invitation.email, role=invitation.role,
                         client_org_id=invitation.client_org_id, organisation=grant.org,
                         project_id=invitation.project_id, projects=grant.projects,
                         expires_at=invitation.expires_at)  # fmt: skip


@router.post("/invitations", response_model=InvitationCreated, status_code=201)
def invite(
    body: InvitationIn, user: CurrentUser, db: DB, auth: Auth, settings: AppSettings
) -> InvitationCreated:
    invitation, token = invitations.create(
        db, auth, user, body.email, body.role, body.client_org_id, body.project_id
    )
    out = _invitation_out(db, invitation)
    return InvitationCreated(**out.model_dump(), accept_url=invitation_url(settings, token))


@router.get("/invitations", response_model=list[InvitationOut])
def pending_invitations(
    user: CurrentUser, db: DB, project_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> list[InvitationOut]:
    if not invitations.may_list(db, user):
        raise Forbidden("You are not allowed to do this")
    return [_invitation_out(db, i) for i in invitations.pending(db, user, project_id)]


@router.delete("/invitations/{invitation_id}", status_code=204)
def revoke_invitation(invitation_id: IdPath, user: CurrentUser, db: DB) -> Response:
    invitations.revoke(db, user, invitation_id)
    return Response(status_code=204)


@router.post("/invitations/accept", response_model=UserOut, status_code=201)
def accept(body: AcceptIn, db: DB, auth: Auth) -> UserOut:
    user = invitations.accept(db, auth, body.token, body.name, body.password)
    return UserOut.model_validate(user)


@router.post("/password-reset", response_model=Message, status_code=202)
def request_reset(body: ResetRequestIn, db: DB, auth: Auth) -> Message:
    service.request_password_reset(db, auth, body.email)
    return Message(detail=RESET_REPLY)


@router.post("/password-reset/confirm", response_model=Message)
def confirm_reset(body: ResetConfirmIn, db: DB, auth: Auth) -> Message:
    service.reset_password(db, auth, body.token, body.password)
    return Message(detail="Password changed; sign in with the new password")
