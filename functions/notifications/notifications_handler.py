"""Lambda: the caller's in-app notifications under /api/v1/notifications."""

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.notifications.routes import router

app = create_app(router)
lambda_handler = lambda_entry(app)
