"""Lambda: GET/POST /api/v1/email/unsubscribe (no login: the signed token is the credential)."""

from eduautismo.api.app import create_app, lambda_entry
from eduautismo.digests.routes import router

app = create_app(router, authenticated=False)
lambda_handler = lambda_entry(app, accept_forms=True)
