"""Lambda: the caller's in-app notifications under /api/v1/notifications."""

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.api.caching import no_store
from eduautismo.notifications.routes import router

app = create_app(router)
app.use(middlewares=[no_store])
lambda_handler = lambda_entry(app)
