"""student erasures audit table; export_jobs accept the json format of student data exports"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_student_erasures"
down_revision = "0002_notification_inbox"


def upgrade() -> None:
    op.create_table(
        "student_erasures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("erased_by_id", sa.Uuid(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plans_deleted", sa.BigInteger(), nullable=False),
        sa.Column("reviews_deleted", sa.BigInteger(), nullable=False),
        sa.Column("notifications_deleted", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["erased_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_student_erasures_organization_erased",
        "student_erasures",
        ["organization_id", "erased_at"],
        unique=False,
    )
    op.drop_constraint("format_allowed", "export_jobs", type_="check")
    op.create_check_constraint("format_allowed", "export_jobs", "format IN ('csv', 'xlsx', 'json')")


def downgrade() -> None:
    op.execute("DELETE FROM export_jobs WHERE format = 'json'")
    op.drop_constraint("format_allowed", "export_jobs", type_="check")
    op.create_check_constraint("format_allowed", "export_jobs", "format IN ('csv', 'xlsx')")
    op.drop_index("ix_student_erasures_organization_erased", table_name="student_erasures")
    op.drop_table("student_erasures")
