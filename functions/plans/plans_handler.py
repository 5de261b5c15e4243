"""Lambda: students and intervention plans, including the cached pending-review list."""

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.plans.routes import router

app = create_app(router)
lambda_handler = lambda_entry(app)
