"""Dashboard, project list and project detail pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import and_, exists, func, select, true
from starlette.responses import Response

from app.assets import service as assets
from app.auth import invitations
from app.authz.check import allowed, project_filter
from app.authz.guard import project_target, visible_project
from app.authz.policy import Action, scope_of
from app.core.deps import DB, CurrentPrincipal
from app.core.errors import AppError
from app.core.flash import clear_flash, read_flash
from app.core.schemas import IdPath
from app.events.service import latest_event_id
from app.invoices import service as invoices
from app.models import (
    Audience,
    Decision,
    Event,
    File,
    FileVersion,
    MemberRole,
    Project,
    ProjectStatus,
    User,
)
from app.projects import repository, service
from app.reviews import service as reviews
from app.users import service as users
from app.web.forms import optional_date
from app.web.render import redirect, render

router = APIRouter()


def awaiting_review(db: DB, principal: CurrentPrincipal) -> list[tuple[File, FileVersion]]:
    """Latest versions I may decide on and have not decided yet, newest first (one query)."""
    user = principal.user
    latest = (
        select(FileVersion.file_id, func.max(FileVersion.number).label("number"))
        .group_by(FileVersion.file_id)
        .subquery()
    )
    stmt = (
        select(File, FileVersion)
        .join(latest, latest.c.file_id == File.id)
        .join(
            FileVersion, and_(FileVersion.file_id == File.id, FileVersion.number == latest.c.number)
        )
        .join(Project, Project.id == File.project_id)
        .where(project_filter(user, Action.DECIDE))
        .where(
            ~exists().where(Decision.version_id == FileVersion.id, Decision.reviewer_id == user.id)
        )
        .order_by(FileVersion.id.desc())
        .limit(50)
    )
    return [(f, v) for f, v in db.execute(stmt)]


@router.get("/home")
def home(request: Request, principal: CurrentPrincipal, db: DB) -> Response:
    user = principal.user
    projects = repository.readable_projects(db, user)
    # creatives make the work; approving it is for managers and clients
    can_decide = scope_of(user.role, Action.DECIDE) is not None
    return render(
        request,
        "home.html",
        principal,
        projects=[p for p in projects if p.status is ProjectStatus.ACTIVE],
        can_decide=can_decide,
        review=awaiting_review(db, principal) if can_decide else [],
        overdue=invoices.overdue(invoices.readable_invoices(db, user))
        if scope_of(user.role, Action.INVOICE_READ)
        else [],
        orgs=repository.org_names(db),
    )


def _list(
    request: Request, principal: CurrentPrincipal, db: DB, status: int = 200, **extra: object
) -> Response:
    user = principal.user
    can_create = allowed(db, user, Action.PROJECT_CREATE)
    return render(
        request,
        "projects/list.html",
        principal,
        status,
        projects=repository.readable_projects(db, user),
        orgs=repository.org_names(db),
        can_create=can_create,
        **extra,
    )


@router.get("/projects")
def project_list(request: Request, principal: CurrentPrincipal, db: DB) -> Response:
    return _list(request, principal, db)


@router.post("/projects")
def project_create(
    request: Request, principal: CurrentPrincipal, db: DB,
    name: Annotated[str, Form(max_length=200)],
    client_org_id: Annotated[int, Form()],
    due_date: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    try:
        project = service.create_project(
            db, principal.user, name, client_org_id, optional_date(due_date, "due_date")
        )
    except AppError as error:
        if error.status_code == 403:
            raise
        return _list(request, principal, db, error.status_code,
                     errors={error.field or "form": error.message})  # fmt: skip
    return redirect(f"/projects/{project.id}")


def _detail(request: Request, principal: CurrentPrincipal, db: DB, project_id: IdPath,
            status: int = 200, **extra: object) -> Response:  # fmt: skip
    user = principal.user
    project = visible_project(db, user, project_id)
    target = project_target(project)
    files = assets.files_of(db, project.id)
    latest = assets.latest_versions(db, [f.id for f in files])
    review = reviews.review_status(db, [v.id for v in latest.values()])
    can_members = allowed(db, user, Action.MEMBERS_MANAGE, target)
    can_invite = allowed(db, user, Action.INVITE_CLIENT, target)
    notice = read_flash(request, request.app.state.settings)
    response = render(
        request,
        "projects/detail.html",
        principal,
        status,
        project=project,
        org=repository.org_names(db).get(project.client_org_id, ""),
        files=files,
        latest=latest,
        review=review,
        members=repository.members(db, project.id),
        can_members=can_members,
        can_update=allowed(db, user, Action.PROJECT_UPDATE, target),
        statuses=list(ProjectStatus),
        can_upload=allowed(db, user, Action.FILE_UPLOAD, target),
        staff=users.internal_users(db) if can_members else [],
        member_roles=list(MemberRole),
        last_event=latest_event_id(db),
        activity=_activity(db, principal, project.id),
        project_id=project.id,
        invitations=invitations.pending(db, user, project.id) if can_invite else None,
        notice=notice,
        **extra,
    )
    clear_flash(request, response, request.app.state.settings)
    return response


@router.get("/projects/{project_id}")
def project_detail(
    request: Request, project_id: IdPath, principal: CurrentPrincipal, db: DB
) -> Response:
    return _detail(request, principal, db, project_id)


@router.get("/projects/{project_id}/files-fragment")
def project_files_fragment(
    request: Request, project_id: IdPath, principal: CurrentPrincipal, db: DB
) -> Response:
    project = visible_project(db, principal.user, project_id)
    files = assets.files_of(db, project.id)
    latest = assets.latest_versions(db, [f.id for f in files])
    review = reviews.review_status(db, [v.id for v in latest.values()])
    return render(request, "projects/_files.html", principal, project=project, files=files,
                  latest=latest, review=review)  # fmt: skip


@router.post("/projects/{project_id}")
def project_update(
    request: Request, project_id: IdPath, principal: CurrentPrincipal, db: DB,
    name: Annotated[str, Form(max_length=200)],
    status: Annotated[ProjectStatus, Form()],
    due_date: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    project = visible_project(db, principal.user, project_id)
    try:
        service.update_project(db, principal.user, project, name, status,
                               optional_date(due_date, "due_date"))  # fmt: skip
    except AppError as error:
        if error.status_code == 403:
            raise
        db.rollback()
        return _detail(request, principal, db, project_id, error.status_code,
                       errors={error.field or "project": error.message})  # fmt: skip
    return redirect(f"/projects/{project_id}")


PHRASES = {
    "project.created": "created the project",
    "project.updated": "updated the project",
    "member.set": "changed the team",
    "member.removed": "changed the team",
    "file.created": "added a file",
    "version.created": "uploaded a new version",
    "comment.created": "commented",
    "comment.resolved": "resolved a comment",
    "invoice.created": "drafted an invoice",
    "invoice.sent": "sent an invoice",
    "invoice.paid": "marked an invoice paid",
    "invoice.void": "voided an invoice",
}


def _activity(db: DB, principal: CurrentPrincipal, project_id: int) -> list[dict[str, object]]:
    project = visible_project(db, principal.user, project_id)
    internal = allowed(db, principal.user, Action.COMMENT_INTERNAL, project_target(project))
    rows = db.scalars(
        select(Event)
        .where(Event.project_id == project.id)
        .where(true() if internal else Event.audience == Audience.ALL)
        .order_by(Event.id.desc())
        .limit(20)
    ).all()
    names = {
        u.id: u.name
        for u in db.scalars(select(User).where(User.id.in_({e.actor_id for e in rows})))
    }
    out = []
    for event in rows:
        text = PHRASES.get(event.kind, event.kind)
        if event.kind == "decision.made":
            decision = event.payload.get("decision")
            text = "approved a version" if decision == "approved" else "requested changes"
        out.append({"who": names.get(event.actor_id, "Someone"), "what": text, "when": event.created_at,
                    "file_id": event.payload.get("file_id")})  # fmt: skip
    return out


@router.get("/projects/{project_id}/activity")
def project_activity(
    request: Request, project_id: IdPath, principal: CurrentPrincipal, db: DB
) -> Response:
    return render(request, "projects/_activity.html", principal, project_id=project_id,
                  activity=_activity(db, principal, project_id))  # fmt: skip


@router.post("/projects/{project_id}/members")
def member_set(
    request: Request, project_id: IdPath, principal: CurrentPrincipal, db: DB,
    user_id: Annotated[int, Form()],
    role: Annotated[MemberRole, Form()],
) -> Response:  # fmt: skip
    project = visible_project(db, principal.user, project_id)
    try:
        service.set_member(db, principal.user, project, user_id, role)
    except AppError as error:
        if error.status_code == 403:
            raise
        return _detail(request, principal, db, project_id, error.status_code,
                       errors={"member": error.message})  # fmt: skip
    return redirect(f"/projects/{project_id}")


@router.post("/projects/{project_id}/members/{user_id}/remove")
def member_remove(
    request: Request, project_id: IdPath, user_id: IdPath, principal: CurrentPrincipal, db: DB
) -> Response:
    project = visible_project(db, principal.user, project_id)
    try:
        service.remove_member(db, principal.user, project, user_id)
    except AppError as error:
        if error.status_code in (403, 404):
            raise
        return _detail(request, principal, db, project_id, error.status_code,
                       errors={error.field or "member": error.message})  # fmt: skip
    return redirect(f"/projects/{project_id}")
