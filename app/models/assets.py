"""Deliverables of a project ("files") and their immutable versions."""

from __future__ import annotations

import enum
from datetime import datetime
from fractions import Fraction

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, UTCDateTime, utcnow
from app.models.identity import enum_column


class FileKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    OTHER = "other"


class File(Base):
    __tablename__ = "files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[FileKind] = mapped_column(enum_column(FileKind, "file_kind"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FileVersion(Base):
    """Never updated after insert: a new upload is a new row with the next number."""

    __tablename__ = "file_versions"
    __table_args__ = (
        UniqueConstraint("file_id", "number", name="uq_file_versions_file_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint(
            "(frame_rate_num IS NULL) = (frame_rate_den IS NULL)"
            " AND (frame_rate_den IS NULL OR (frame_rate_num > 0 AND frame_rate_den > 0))",
            name="frame_rate_complete",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(200))
    original_name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # what ffprobe found at upload (app/assets/media.py); None when it could not tell
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    # the exact rational rate (30000/1001 for 29.97), which SMPTE time code needs
    frame_rate_num: Mapped[int | None] = mapped_column()
    frame_rate_den: Mapped[int | None] = mapped_column()
    duration: Mapped[float | None] = mapped_column(Float)

    @property
    def frame_rate(self) -> Fraction | None:
        if not self.frame_rate_num or not self.frame_rate_den:
            return None
        return Fraction(self.frame_rate_num, self.frame_rate_den)
