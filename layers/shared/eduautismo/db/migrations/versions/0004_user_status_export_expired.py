"""users.status (active / disabled) and the times of the last Cognito events applied; export_jobs may be ``expired`` (their file
was deleted because data it may hold was erased)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_user_status_export_expired"
down_revision = "0003_student_erasures"


def upgrade() -> None:
    op.add_column("users", sa.Column("status", sa.String(length=20), server_default="active", nullable=False))
    op.create_check_constraint("status_allowed", "users", "status IN ('active', 'disabled')")
    op.add_column("users", sa.Column("role_event_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("status_event_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint("status_allowed", "export_jobs", type_="check")
    op.create_check_constraint(
        "status_allowed",
        "export_jobs",
        "status IN ('pending', 'running', 'succeeded', 'failed', 'expired')",
    )


def downgrade() -> None:
    # An expired job's file is gone: as far as the older code knows, it failed.
    op.execute("UPDATE export_jobs SET status = 'failed' WHERE status = 'expired'")
    op.drop_constraint("status_allowed", "export_jobs", type_="check")
    op.create_check_constraint(
        "status_allowed", "export_jobs", "status IN ('pending', 'running', 'succeeded', 'failed')"
    )
    op.drop_column("users", "status_event_at")
    op.drop_column("users", "role_event_at")
    op.drop_constraint("status_allowed", "users", type_="check")
    op.drop_column("users", "status")
