"""session settings (statement timeout, time zone) become defaults of the migrating login in this
database, instead of a SET on every connection (which pins it behind RDS Proxy); the deploy's migrations
function applies the same defaults to the application and health logins (eduautismo.db.migration_resource)
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from eduautismo.db.session_defaults import apply_role_defaults, reset_role_defaults
from eduautismo.settings import get_settings

revision = "0005_role_session_defaults"
down_revision = "0004_user_status_export_expired"


def _current_login() -> str:
    return str(op.get_bind().scalar(text("SELECT current_user")))


def upgrade() -> None:
    apply_role_defaults(op.get_bind(), [_current_login()], get_settings())


def downgrade() -> None:
    reset_role_defaults(op.get_bind(), [_current_login()], get_settings())
