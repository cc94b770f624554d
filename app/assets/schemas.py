from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.core.schemas import ORM, DbId
from app.models import FileKind


class FileIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    kind: FileKind


class VersionOut(ORM):
    id: int
    file_id: DbId
    number: int
    uploaded_by: int | None
    size: int
    sha256: str
    content_type: str
    original_name: str
    created_at: datetime


class FileOut(ORM):
    id: int
    project_id: DbId
    title: str
    kind: FileKind
    created_at: datetime


class FileDetail(FileOut):
    versions: list[VersionOut]
