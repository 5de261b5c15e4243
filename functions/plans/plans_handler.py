"""Lambda: students and intervention plans, including the cached pending-review list."""

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.plans.routes import router
from eduautismo.students.routes import router as students_router

app = create_app(router, students_router)
lambda_handler = lambda_entry(app)
