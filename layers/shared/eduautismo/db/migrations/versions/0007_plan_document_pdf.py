"""export_jobs accept the pdf format of plan documents"""

from __future__ import annotations

from alembic import op

revision = "0007_plan_document_pdf"
down_revision = "0006_reminder_preferences"


def upgrade() -> None:
    op.drop_constraint("format_allowed", "export_jobs", type_="check")
    op.create_check_constraint("format_allowed", "export_jobs", "format IN ('csv', 'xlsx', 'json', 'pdf')")


def downgrade() -> None:
    op.execute("DELETE FROM export_jobs WHERE format = 'pdf'")
    op.drop_constraint("format_allowed", "export_jobs", type_="check")
    op.create_check_constraint("format_allowed", "export_jobs", "format IN ('csv', 'xlsx', 'json')")
