"""review room: what ffprobe found in each version (picture size, exact frame rate, duration)

Revision ID: 0003_review
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_review"
down_revision = "0002_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("file_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("height", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("frame_rate_num", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("frame_rate_den", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("duration", sa.Float(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_file_versions_frame_rate_complete"),
            "(frame_rate_num IS NULL) = (frame_rate_den IS NULL)"
            " AND (frame_rate_den IS NULL OR (frame_rate_num > 0 AND frame_rate_den > 0))",
        )


def downgrade() -> None:
    with op.batch_alter_table("file_versions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_file_versions_frame_rate_complete"), type_="check")
        for column in ("duration", "frame_rate_den", "frame_rate_num", "height", "width"):
            batch_op.drop_column(column)
