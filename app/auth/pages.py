"""Sign-in, sign-out, sign-up by invitation, forgot/reset password, access denied."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.auth import invitations, service
from app.auth.endpoints import RESET_REPLY
from app.core.cookies import clear_session_cookie, client_ip, set_session_cookie
from app.core.deps import DB, AppSettings, Auth, CurrentPrincipal, OptionalPrincipal
from app.core.errors import AppError, Throttled
from app.models import Invitation
from app.web.render import redirect, render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # only same-site paths: "//evil.example" or "https://..." would be an open redirect
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or urlsplit(target).netloc
    ):
        return "/home"
    return target


@router.get("/")
def root(principal: OptionalPrincipal) -> Response:
    return redirect("/home" if principal else "/sign-in")


@router.get("/sign-in")
def sign_in_page(
    request: Request, principal: OptionalPrincipal, next: str | None = None
) -> Response:
    if principal is not None:
        return redirect(_safe_next(next))
    return render(request, "auth/sign_in.html", None, next=_safe_next(next), email="")


@router.post("/sign-in")
def sign_in(
    request: Request,
    db: DB,
    auth: Auth,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/home",
) -> Response:
    try:
        user = service.authenticate(db, auth, email, password, client_ip(request.client))
    except AppError as error:
        page = render(request, "auth/sign_in.html", None, error.status_code,
                      errors={"form": error.message}, next=_safe_next(next), email=email)  # fmt: skip
        if isinstance(error, Throttled):
            page.headers["Retry-After"] = str(error.retry_after)
        return page
    token = service.start_session(
        db, auth, user, request.headers.get("user-agent"), client_ip(request.client)
    )
    response = redirect(_safe_next(next))
    set_session_cookie(response, settings, token)
    return response


@router.post("/sign-out")
def sign_out(principal: CurrentPrincipal, db: DB, settings: AppSettings) -> Response:
    service.end_session(db, principal.session_hash)
    response = redirect("/sign-in")
    clear_session_cookie(response, settings)
    return response


def _invitation_view(db: DB, invitation: Invitation) -> dict[str, object]:
    return {"invitation": invitation, "grant": invitations.grants(db, invitation)}


def _token_page(response: Response) -> Response:
    # the page's URL holds a one-time token: never send it on as a Referer (nginx logs those)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/invite")
def invitation_page(request: Request, db: DB, token: str = "") -> Response:
    invitation = invitations.open_invitation(db, token)
    return _token_page(render(request, "auth/invite.html", None,
                              **_invitation_view(db, invitation), token=token, name=""))  # fmt: skip


@router.post("/invite")
def accept_invitation(
    request: Request,
    db: DB,
    auth: Auth,
    settings: AppSettings,
    token: Annotated[str, Form(max_length=200)],
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    invitation = invitations.open_invitation(db, token)
    try:
        user = invitations.accept(db, auth, token, name, password)
    except AppError as error:
        return _token_page(render(request, "auth/invite.html", None, error.status_code,
                                  **_invitation_view(db, invitation), token=token, name=name,
                                  errors={error.field or "form": error.message}))  # fmt: skip
    db.flush()
    session_token = service.start_session(
        db, auth, user, request.headers.get("user-agent"), client_ip(request.client)
    )
    response = redirect("/home")
    set_session_cookie(response, settings, session_token)
    return response


@router.get("/forgot-password")
def forgot_page(request: Request) -> Response:
    return render(request, "auth/forgot.html", None, sent=False)


@router.post("/forgot-password")
def forgot(
    request: Request, db: DB, auth: Auth,
    email: Annotated[str, Form(max_length=320)],
) -> Response:  # fmt: skip
    service.request_password_reset(db, auth, email)
    return render(request, "auth/forgot.html", None, sent=True, message=RESET_REPLY)


@router.get("/reset-password")
def reset_page(request: Request, token: str = "") -> Response:
    return _token_page(render(request, "auth/reset.html", None, token=token))


@router.post("/reset-password")
def reset(
    request: Request, db: DB, auth: Auth,
    token: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:  # fmt: skip
    try:
        service.reset_password(db, auth, token, password)
    except AppError as error:
        return _token_page(render(request, "auth/reset.html", None, error.status_code,
                                  token=token, errors={error.field or "form": error.message}))  # fmt: skip
    return redirect("/sign-in?reset=1")


@router.get("/access-denied")
def access_denied(request: Request, principal: OptionalPrincipal) -> Response:
    return render(request, "error.html", principal, title="Access denied",
                  message="You do not have access to that page.")  # fmt: skip


@router.get("/account")
def account(request: Request, principal: CurrentPrincipal) -> Response:
    return render(request, "account.html", principal)


@router.post("/account/password")
def change_password(
    request: Request, principal: CurrentPrincipal, db: DB, auth: Auth,
    current_password: Annotated[str, Form(max_length=1024)],
    new_password: Annotated[str, Form(max_length=1024)],
) -> Response:  # fmt: skip
    try:
        service.change_password(db, auth, principal.user, current_password, new_password,
                                principal.session_hash)  # fmt: skip
    except AppError as error:
        return render(request, "account.html", principal, error.status_code,
                      errors={error.field or "form": error.message})  # fmt: skip
    return render(
        request,
        "account.html",
        principal,
        notice="Password changed; other sessions were signed out.",
    )
