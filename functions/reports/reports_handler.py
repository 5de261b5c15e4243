"""Lambda: GET /api/v1/reports/review-compliance and /api/v1/export/review-compliance/excel."""

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.reports.routes import router

app = create_app(router)
lambda_handler = lambda_entry(app)
