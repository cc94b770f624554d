"""JSON API for comments and decisions on versions."""

from __future__ import annotations

from fastapi import APIRouter

from app.assets.service import visible_version
from app.core.deps import DB, CurrentUser
from app.core.schemas import IdPath
from app.reviews import service
from app.reviews.schemas import CommentIn, CommentOut, DecisionIn, DecisionOut

router = APIRouter(tags=["reviews"])


@router.get("/versions/{version_id}/comments", response_model=list[CommentOut])
def list_comments(version_id: IdPath, user: CurrentUser, db: DB) -> list[CommentOut]:
    version, _, project = visible_version(db, user, version_id)
    return [CommentOut.model_validate(c) for c in service.comments_of(db, user, version, project)]


@router.post("/versions/{version_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(version_id: IdPath, body: CommentIn, user: CurrentUser, db: DB) -> CommentOut:
    version, _, project = visible_version(db, user, version_id)
    region = (body.region.x, body.region.y, body.region.w, body.region.h) if body.region else None
    comment = service.add_comment(
        db, user, version, project, body.body, body.visibility, body.t_start, body.t_end,
        region, body.parent_id,
    )  # fmt: skip
    return CommentOut.model_validate(comment)


@router.post("/comments/{comment_id}/resolve", response_model=CommentOut)
def resolve_comment(comment_id: IdPath, user: CurrentUser, db: DB) -> CommentOut:
    comment, version, project = service.visible_comment(db, user, comment_id)
    return CommentOut.model_validate(service.resolve_comment(db, user, comment, version, project))


@router.get("/versions/{version_id}/decisions", response_model=list[DecisionOut])
def list_decisions(version_id: IdPath, user: CurrentUser, db: DB) -> list[DecisionOut]:
    visible_version(db, user, version_id)
    return [DecisionOut.model_validate(d) for d, _ in service.decisions_of(db, version_id)]


@router.put("/versions/{version_id}/decision", response_model=DecisionOut)
def decide(version_id: IdPath, body: DecisionIn, user: CurrentUser, db: DB) -> DecisionOut:
    version, _, project = visible_version(db, user, version_id)
    return DecisionOut.model_validate(
        service.decide(db, user, version, project, body.decision, body.note)
    )
