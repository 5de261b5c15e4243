"""Lambda: students (and their plan document), intervention plans (including the cached pending-review
list) and users."""

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.plan_document.routes import router as plan_document_router
from eduautismo.plans.routes import router as plans_router
from eduautismo.students.routes import router as students_router
from eduautismo.users.routes import router as users_router

app = create_app(plans_router, students_router, users_router, plan_document_router)
lambda_handler = lambda_entry(app)
