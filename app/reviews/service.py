"""Comments and approve / request-changes decisions on a version."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.authz.check import allowed
from app.authz.guard import project_target, require
from app.authz.policy import Action
from app.core.errors import Invalid, NotFound
from app.events import service as events
from app.models import (
    Audience,
    Comment,
    Decision,
    DecisionKind,
    FileVersion,
    Project,
    User,
    Visibility,
    utcnow,
)


def sees_internal(db: Session, user: User, project: Project) -> bool:
    return allowed(db, user, Action.COMMENT_INTERNAL, project_target(project))


def comments_of(db: Session, user: User, version: FileVersion, project: Project) -> list[Comment]:
    stmt = select(Comment).where(Comment.version_id == version.id).order_by(Comment.id)
    if not sees_internal(db, user, project):
        stmt = stmt.where(Comment.visibility == Visibility.PUBLIC)
    return list(db.scalars(stmt))


def add_comment(
    db: Session,
    user: User,
    version: FileVersion,
    project: Project,
    body: str,
    visibility: Visibility = Visibility.PUBLIC,
    t_start: float | None = None,
    t_end: float | None = None,
    region: tuple[float, float, float | None, float | None] | None = None,
    parent_id: int | None = None,
) -> Comment:
    target = project_target(project)
    require(db, user, Action.COMMENT_CREATE, target)
    if visibility is Visibility.INTERNAL:
        require(db, user, Action.COMMENT_INTERNAL, target)
    body = body.strip()
    if not body:
        raise Invalid("Write a comment", field="body")
    if t_end is not None and (t_start is None or t_end < t_start):
        raise Invalid("The end time must come after the start time", field="t_end")
    if t_start is not None and t_start < 0:
        raise Invalid("The time code cannot be negative", field="t_start")
    x = y = w = h = None
    if region is not None:
        x, y, w, h = region
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise Invalid("The region must lie inside the frame (0 to 1)", field="region")
        if (w is None) != (h is None) or (
            w is not None and (w < 0 or h < 0 or x + w > 1 or y + h > 1)
        ):
            raise Invalid("The region must lie inside the frame (0 to 1)", field="region")
    if parent_id is not None:
        parent = db.get(Comment, parent_id)
        # a reply to a comment the user cannot see must not confirm that it exists
        if (
            parent is None
            or parent.version_id != version.id
            or (parent.visibility is Visibility.INTERNAL and not sees_internal(db, user, project))
        ):
            raise Invalid("No such comment to reply to", field="parent_id")
        if parent.visibility is Visibility.INTERNAL:
            visibility = Visibility.INTERNAL
    comment = Comment(
        version_id=version.id,
        parent_id=parent_id,
        author_id=user.id,
        body=body[:10000],
        t_start=t_start,
        t_end=t_end,
        region_x=x,
        region_y=y,
        region_w=w,
        region_h=h,
        visibility=visibility,
    )
    db.add(comment)
    db.flush()
    events.record(
        db,
        "comment.created",
        project.id,
        user,
        {"version_id": version.id, "comment_id": comment.id, "file_id": version.file_id},
        audience=Audience.INTERNAL if visibility is Visibility.INTERNAL else Audience.ALL,
    )
    return comment


def visible_comment(
    db: Session, user: User, comment_id: int
) -> tuple[Comment, FileVersion, Project]:
    from app.assets.service import visible_version

    comment = db.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment")
    try:
        version, _, project = visible_version(db, user, comment.version_id)
    except NotFound:
        raise NotFound("No such comment") from None
    if comment.visibility is Visibility.INTERNAL and not sees_internal(db, user, project):
        raise NotFound("No such comment")
    return comment, version, project


def resolve_comment(
    db: Session, user: User, comment: Comment, version: FileVersion, project: Project
) -> Comment:
    require(db, user, Action.COMMENT_RESOLVE, project_target(project))
    if comment.resolved_at is None:
        comment.resolved_at = utcnow()
        comment.resolved_by = user.id
        events.record(
            db,
            "comment.resolved",
            project.id,
            user,
            {"version_id": version.id, "comment_id": comment.id, "file_id": version.file_id},
            audience=Audience.INTERNAL
            if comment.visibility is Visibility.INTERNAL
            else Audience.ALL,
        )
    return comment


def review_status(db: Session, version_ids: list[int]) -> dict[int, str]:
    """Per version: "changes requested" if anyone asked for changes, else "approved" if anyone
    approved, else "in review" (one query for a whole file list)."""
    status = dict.fromkeys(version_ids, "in review")
    if not version_ids:
        return status
    stmt = select(Decision.version_id, Decision.decision).where(
        Decision.version_id.in_(version_ids)
    )
    for version_id, decision in db.execute(stmt):
        if decision is DecisionKind.CHANGES_REQUESTED:
            status[version_id] = "changes requested"
        elif status[version_id] == "in review":
            status[version_id] = "approved"
    return status


def decisions_of(db: Session, version_id: int) -> list[tuple[Decision, User]]:
    stmt = (
        select(Decision, User)
        .join(User, User.id == Decision.reviewer_id)
        .where(Decision.version_id == version_id)
        .order_by(Decision.id)
    )
    return [(d, u) for d, u in db.execute(stmt)]


def decide(
    db: Session,
    user: User,
    version: FileVersion,
    project: Project,
    decision: DecisionKind,
    note: str = "",
) -> Decision:
    require(db, user, Action.DECIDE, project_target(project))
    row = db.scalar(
        select(Decision).where(Decision.version_id == version.id, Decision.reviewer_id == user.id)
    )
    if row is None:
        row = Decision(
            version_id=version.id, reviewer_id=user.id, decision=decision, note=note[:2000]
        )
        db.add(row)
    else:
        row.decision, row.note, row.created_at = decision, note[:2000], utcnow()
    db.flush()
    events.record(
        db,
        "decision.made",
        project.id,
        user,
        {"version_id": version.id, "file_id": version.file_id, "decision": decision.value},
    )
    return row
