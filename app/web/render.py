"""Renders pages inside the sidebar layout, with the navigation the user's role allows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from app.authz.check import allowed
from app.authz.policy import Action
from app.core.deps import Principal
from app.models import Role
from app.reviews import timecode

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))

# (label, path, who sees it): roles listed, or None for everyone signed in
NAVIGATION: list[tuple[str, str, set[Role] | None]] = [
    ("Dashboard", "/home", None),
    ("Projects", "/projects", None),
    ("Invoices", "/invoices", {Role.ADMIN, Role.PROJECT_MANAGER, Role.CLIENT}),
    ("Users", "/admin/users", {Role.ADMIN}),
    ("Account", "/account", None),
]


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value):,.2f}"


def _when(value: datetime | date | None) -> Markup | str:
    """UTC in the HTML (what a reader without JavaScript gets); app.js shows it in the
    viewer's own time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC)
        return Markup('<time datetime="{}" data-local>{}</time>').format(
            utc.strftime("%Y-%m-%dT%H:%M:%SZ"), utc.strftime("%Y-%m-%d %H:%M UTC")
        )
    return value.isoformat()


TEMPLATES.env.filters.update(money=_money, timecode=timecode.label, when=_when)


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    settings = request.app.state.settings
    nav = []
    if principal is not None:
        role = principal.user.role
        nav = [(label, path) for label, path, roles in NAVIGATION if roles is None or role in roles]
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": principal.user if principal else None,
            "csrf": principal.csrf(settings) if principal else "",
            "nav": nav,
            "path": request.url.path,
            "errors": {},
            "Role": Role,
            **context,
        },
        status_code=status_code,
    )


def can(db: Session, principal: Principal, action: Action, target: object = None) -> bool:
    return allowed(db, principal.user, action, target)  # type: ignore[arg-type]


def redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/sign-in?next={quote(target, safe='')}")
