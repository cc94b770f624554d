"""File pages: viewer, versions, comments with time codes and regions, decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from starlette.responses import Response

from app.assets import links, service
from app.authz.check import allowed
from app.authz.guard import project_target, visible_project
from app.authz.policy import Action
from app.core.deps import DB, CurrentPrincipal
from app.core.errors import AppError, NotFound
from app.core.schemas import IdPath
from app.events.service import latest_event_id
from app.models import DecisionKind, FileKind, User, Visibility
from app.reviews import service as reviews
from app.reviews import timecode
from app.web.forms import optional_fraction
from app.web.render import redirect, render

router = APIRouter()


def _chunks(upload: UploadFile) -> object:
    while chunk := upload.file.read(1 << 16):
        yield chunk


@router.post("/projects/{project_id}/files")
def file_create(
    request: Request, project_id: IdPath, principal: CurrentPrincipal, db: DB,
    title: Annotated[str, Form(max_length=300)],
    kind: Annotated[FileKind, Form()],
    upload: Annotated[UploadFile | None, Form()] = None,
) -> Response:  # fmt: skip
    project = visible_project(db, principal.user, project_id)
    file = service.create_file(db, principal.user, project, title, kind)
    if upload is not None and upload.filename:
        service.add_version(db, request.app.state.storage, principal.user, file, project,
                            _chunks(upload), upload.content_type or "", upload.filename,
                            settings=request.app.state.settings)  # fmt: skip
    return redirect(f"/files/{file.id}")


@router.post("/files/{file_id}/versions")
def version_upload(
    request: Request, file_id: IdPath, principal: CurrentPrincipal, db: DB,
    upload: Annotated[UploadFile, Form()],
) -> Response:  # fmt: skip
    file, project = service.visible_file(db, principal.user, file_id)
    service.add_version(db, request.app.state.storage, principal.user, file, project,
                        _chunks(upload), upload.content_type or "", upload.filename or "upload",
                        settings=request.app.state.settings)  # fmt: skip
    return redirect(f"/files/{file.id}")


def _panel_context(db: DB, principal: CurrentPrincipal, version_id: IdPath) -> dict[str, object]:
    user = principal.user
    version, file, project = service.visible_version(db, user, version_id)
    target = project_target(project)
    comments = reviews.comments_of(db, user, version, project)
    authors = {c.author_id for c in comments}
    names = {u.id: u.name for u in (db.get(User, a) for a in authors if a) if u}
    return {
        "version": version,
        "file": file,
        "project": project,
        "comments": comments,
        "threads": [
            (c, [r for r in comments if r.parent_id == c.id])
            for c in comments
            if c.parent_id is None or c.parent_id not in {x.id for x in comments}
        ],
        "names": names,
        "decisions": reviews.decisions_of(db, version.id),
        "can_comment": allowed(db, user, Action.COMMENT_CREATE, target),
        "can_internal": allowed(db, user, Action.COMMENT_INTERNAL, target),
        "can_resolve": allowed(db, user, Action.COMMENT_RESOLVE, target),
        "can_decide": allowed(db, user, Action.DECIDE, target),
    }


@router.get("/files/{file_id}")
def file_page(
    request: Request, file_id: IdPath, principal: CurrentPrincipal, db: DB, v: int | None = None
) -> Response:
    return file_detail(request, file_id, principal, db, v)


def file_detail(
    request: Request, file_id: IdPath, principal: CurrentPrincipal, db: DB, v: int | None = None,
    status: int = 200, errors: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    file, project = service.visible_file(db, principal.user, file_id)
    versions = service.versions_of(db, file.id)
    current = next((x for x in versions if x.number == v), versions[-1] if versions else None)
    if v is not None and (current is None or current.number != v):
        raise NotFound("No such version")
    context = _panel_context(db, principal, current.id) if current else {}
    state = request.app.state
    links_ = (
        links.version_links(db, state.settings, state.file_keys, principal.user, current, file,
                            project) if current else {}
    )  # fmt: skip
    return render(
        request, "files/detail.html", principal, status,
        file=file, project=project, versions=versions, current=current,
        can_upload=allowed(db, principal.user, Action.FILE_UPLOAD, project_target(project)),
        last_event=latest_event_id(db), errors=errors or {},
        links=links_, files_service=state.file_keys is not None,
        **{k: v for k, v in context.items() if k not in ("file", "project")},
    )  # fmt: skip


@router.get("/versions/{version_id}/panel")
def review_panel(
    request: Request, version_id: IdPath, principal: CurrentPrincipal, db: DB
) -> Response:
    return render(
        request, "files/_panel.html", principal, **_panel_context(db, principal, version_id)
    )


def _region(
    x: str, y: str, w: str, h: str
) -> tuple[float, float, float | None, float | None] | None:
    """A pin (x, y) or a box (x, y, w, h) in fractions of the picture itself."""
    left, top = optional_fraction(x, "region"), optional_fraction(y, "region")
    if left is None or top is None:
        return None
    # the service refuses a box with one side only or reaching outside the picture
    return left, top, optional_fraction(w, "region"), optional_fraction(h, "region")


@router.post("/versions/{version_id}/comments")
def comment_create(
    request: Request, version_id: IdPath, principal: CurrentPrincipal, db: DB,
    body: Annotated[str, Form(max_length=10000)],
    visibility: Annotated[Visibility, Form()] = Visibility.PUBLIC,
    t_start: Annotated[str, Form(max_length=20)] = "",
    t_end: Annotated[str, Form(max_length=20)] = "",
    region_x: Annotated[str, Form(max_length=20)] = "",
    region_y: Annotated[str, Form(max_length=20)] = "",
    region_w: Annotated[str, Form(max_length=20)] = "",
    region_h: Annotated[str, Form(max_length=20)] = "",
    parent_id: Annotated[int | None, Form()] = None,
) -> Response:  # fmt: skip
    version, file, project = service.visible_version(db, principal.user, version_id)
    try:
        region = _region(region_x, region_y, region_w, region_h)
        rate = version.frame_rate
        reviews.add_comment(db, principal.user, version, project, body, visibility,
                            timecode.parse(t_start, "t_start", rate),
                            timecode.parse(t_end, "t_end", rate), region, parent_id)  # fmt: skip
    except AppError as error:
        if error.status_code in (403, 404):
            raise
        db.rollback()
        return file_detail(request, file.id, principal, db, version.number, error.status_code,
                           {error.field or "form": error.message})  # fmt: skip
    if request.headers.get("hx-request"):
        return render(
            request, "files/_panel.html", principal, **_panel_context(db, principal, version_id)
        )
    return redirect(f"/files/{file.id}?v={version.number}")


@router.post("/versions/{version_id}/decision")
def decision_create(
    request: Request, version_id: IdPath, principal: CurrentPrincipal, db: DB,
    decision: Annotated[DecisionKind, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    version, file, project = service.visible_version(db, principal.user, version_id)
    reviews.decide(db, principal.user, version, project, decision, note)
    if request.headers.get("hx-request"):
        return render(
            request, "files/_panel.html", principal, **_panel_context(db, principal, version_id)
        )
    return redirect(f"/files/{file.id}?v={version.number}")


@router.post("/comments/{comment_id}/resolve")
def comment_resolve(
    request: Request, comment_id: IdPath, principal: CurrentPrincipal, db: DB
) -> Response:
    comment, version, project = reviews.visible_comment(db, principal.user, comment_id)
    reviews.resolve_comment(db, principal.user, comment, version, project)
    return redirect(f"/files/{version.file_id}?v={version.number}")
