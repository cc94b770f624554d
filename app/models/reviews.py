"""Comments and decisions on one file version."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, UTCDateTime, utcnow
from app.models.identity import enum_column


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # the client sees it
    INTERNAL = "internal"  # studio only


class DecisionKind(enum.StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint("t_start IS NULL OR t_start >= 0", name="t_start_not_negative"),
        CheckConstraint(
            "t_end IS NULL OR (t_start IS NOT NULL AND t_end >= t_start)", name="t_end_after_start"
        ),
        CheckConstraint(
            "(region_x IS NULL) = (region_y IS NULL) AND (region_w IS NULL) = (region_h IS NULL)"
            " AND (region_w IS NULL OR region_x IS NOT NULL)",
            name="region_complete",
        ),
        CheckConstraint(
            "region_x IS NULL OR (region_x >= 0 AND region_x <= 1 AND region_y >= 0"
            " AND region_y <= 1)",
            name="region_point_in_unit_square",
        ),
        CheckConstraint(
            "region_w IS NULL OR (region_w >= 0 AND region_h >= 0 AND region_x + region_w <= 1"
            " AND region_y + region_h <= 1)",
            name="region_size_in_unit_square",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("file_versions.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    # seconds into the media; a range when t_end is set
    t_start: Mapped[float | None] = mapped_column(Float)
    t_end: Mapped[float | None] = mapped_column(Float)
    # a point (x, y) or rectangle (x, y, w, h), upper-left origin, 0..1 of the frame
    region_x: Mapped[float | None] = mapped_column(Float)
    region_y: Mapped[float | None] = mapped_column(Float)
    region_w: Mapped[float | None] = mapped_column(Float)
    region_h: Mapped[float | None] = mapped_column(Float)
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility, "comment_visibility"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("version_id", "reviewer_id", name="uq_decisions_version_reviewer"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("file_versions.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    decision: Mapped[DecisionKind] = mapped_column(enum_column(DecisionKind, "decision_kind"))
    note: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
