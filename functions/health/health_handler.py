"""Lambda: GET /api/v1/health."""

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.health.routes import router

app = create_app(router, authenticated=False, database=False)
lambda_handler = lambda_entry(app)
