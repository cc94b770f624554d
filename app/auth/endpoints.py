"""JSON API for signing in and out, invitations and password resets."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.auth import service
from app.auth.schemas import (
    AcceptIn,
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
from app.authz.guard import require
from app.authz.policy import Action
from app.core.cookies import clear_session_cookie, client_ip, set_session_cookie
from app.core.deps import DB, AppSettings, Auth, CurrentPrincipal, CurrentUser
from app.core.security import csrf_token, hash_token
from app.models import Role

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


@router.post("/invitations", response_model=InvitationOut, status_code=201)
def invite(
    body: InvitationIn, user: CurrentUser, db: DB, auth: Auth, settings: AppSettings
) -> InvitationOut:
    require(db, user, Action.INVITE_CLIENT if body.role is Role.CLIENT else Action.INVITE_STAFF)
    token = service.create_invitation(
        db, auth, user, body.email, body.role, body.client_org_id, body.project_id
    )
    url = f"{settings.base_url.rstrip('/')}/invite/{token}"
    return InvitationOut(email=body.email.strip().lower(), role=body.role, accept_url=url)


@router.post("/invitations/accept", response_model=UserOut, status_code=201)
def accept(body: AcceptIn, db: DB, auth: Auth) -> UserOut:
    user = service.accept_invitation(db, auth, body.token, body.name, body.password)
    return UserOut.model_validate(user)


@router.post("/password-reset", response_model=Message, status_code=202)
def request_reset(
    body: ResetRequestIn, request: Request, db: DB, auth: Auth, settings: AppSettings
) -> Message:
    token = service.request_password_reset(db, auth, body.email)
    if token:
        request.app.state.mailer.send(
            body.email.strip().lower(),
            "Reset your Eye Shots password",
            f"{settings.base_url.rstrip('/')}/reset-password?token={token}",
        )
    return Message(detail=RESET_REPLY)


@router.post("/password-reset/confirm", response_model=Message)
def confirm_reset(body: ResetConfirmIn, db: DB, auth: Auth) -> Message:
    service.reset_password(db, auth, body.token, body.password)
    return Message(detail="Password changed; sign in with the new password")
