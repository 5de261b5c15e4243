"""Lambda: GET /api/v1/export/pending-review/{summary,csv,excel} and /api/v1/export/jobs/{id}."""

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.exports.routes import router

app = create_app(router)
lambda_handler = lambda_entry(app)
