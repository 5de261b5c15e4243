"""notification inbox: seen and archived states, the per-user inbox version behind ETags

``notification_inboxes`` holds one row per user: ``version`` rises in the same transaction as every insert,
update or delete of that user's notifications (statement-level triggers over the transition tables, so the
daily job's set-based inserts, cleanup deletes and cascades count too, one upsert per statement);
``next_expiry`` is a lower bound of the earliest expiry after ``expiry_checked_at``. A conditional GET
compares its ETag from that row alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_notification_inbox"
down_revision = "0001"

# Rows are upserted in user order so that two statements bumping the same users lock them in one order.
BUMP_FUNCTION = """
CREATE FUNCTION notification_inbox_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notification_inboxes AS inbox (user_id, version, next_expiry)
    SELECT user_id, 1, min(expires_at) FROM changed_rows GROUP BY user_id ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE
        SET version = inbox.version + 1,
            next_expiry = LEAST(inbox.next_expiry, EXCLUDED.next_expiry);
    RETURN NULL;
END
$$
"""
TRIGGERS = {
    "notifications_inbox_insert": "AFTER INSERT ON notifications REFERENCING NEW TABLE AS changed_rows",
    "notifications_inbox_update": "AFTER UPDATE ON notifications REFERENCING NEW TABLE AS changed_rows",
    "notifications_inbox_delete": "AFTER DELETE ON notifications REFERENCING OLD TABLE AS changed_rows",
}


def upgrade() -> None:
    op.add_column("notifications", sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("notifications", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    # The badge counts (unread, unseen) and the unread list read only this partial index.
    op.drop_index("ix_notifications_user_read_created", table_name="notifications")
    op.create_index(
        "ix_notifications_inbox_unread",
        "notifications",
        ["user_id", "created_at"],
        unique=False,
        postgresql_include=["expires_at", "seen_at"],
        postgresql_where=sa.text("NOT is_read AND archived_at IS NULL"),
    )
    op.create_table(
        "notification_inboxes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("expiry_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_expiry", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.execute(BUMP_FUNCTION)
    for name, timing in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} {timing} FOR EACH STATEMENT EXECUTE FUNCTION notification_inbox_bump()"
        )


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON notifications")
    op.execute("DROP FUNCTION notification_inbox_bump()")
    op.drop_table("notification_inboxes")
    op.drop_index("ix_notifications_inbox_unread", table_name="notifications")
    op.create_index(
        "ix_notifications_user_read_created",
        "notifications",
        ["user_id", "is_read", "created_at"],
        unique=False,
    )
    op.drop_column("notifications", "archived_at")
    op.drop_column("notifications", "seen_at")
