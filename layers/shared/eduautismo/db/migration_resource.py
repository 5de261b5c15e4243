"""The CloudFormation custom resource that brings the schema to head on every deploy (SchemaMigrations),
then creates or updates the application's and health check's logins (``eduautismo.db.roles``).

It answers CloudFormation's custom-resource protocol itself: a JSON document PUT to the presigned
``ResponseURL``. Create and Update migrate; a failure answers FAILED, so the deploy rolls back before
new code meets an old schema. Delete never touches the schema and always answers SUCCESS: a stack
must be deletable even when its database is already gone.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from eduautismo.db.credentials import read_database_secret
from eduautismo.db.engine import get_engine
from eduautismo.db.migrate import current_revision, upgrade
from eduautismo.db.roles import DatabaseLogin, ensure_application_roles
from eduautismo.observability import logger
from eduautismo.settings import get_settings

PHYSICAL_RESOURCE_ID = "eduautismo-schema-migrations"
RESPONSE_TIMEOUT_SECONDS = 15

ResponseSender = Callable[[str, dict[str, Any]], None]


def _login(secret_arn: str) -> DatabaseLogin:
    secret = read_database_secret(secret_arn)
    return DatabaseLogin(username=str(secret["username"]), password=str(secret["password"]))


def migrate_to_head() -> str | None:
    """Schema to head as the owner; then the logins, when the stack names their secrets (in AWS always)."""
    engine = get_engine()
    upgrade(engine)
    settings = get_settings()
    if settings.application_database_secret_arn and settings.health_database_secret_arn:
        ensure_application_roles(
            engine,
            application=_login(settings.application_database_secret_arn),
            health=_login(settings.health_database_secret_arn),
        )
        logger.info("database logins granted")
    return current_revision(engine)


def send_response(url: str, body: dict[str, Any]) -> None:
    """PUT the answer to CloudFormation's presigned S3 URL (an empty content type, as it was signed)."""
    if urlparse(url).scheme not in ("https", "http"):
        raise ValueError("ResponseURL must be an HTTP(S) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as response:  # noqa: S310
        response.read()


def handle_migration_event(
    event: dict[str, Any],
    *,
    log_stream: str,
    migrate: Callable[[], str | None] = migrate_to_head,
    send: ResponseSender = send_response,
) -> dict[str, Any]:
    request_type = event.get("RequestType")
    status, reason, data = "SUCCESS", "", {}
    if request_type in ("Create", "Update"):
        try:
            revision = migrate()
        except Exception as exc:  # any failure must reach CloudFormation, or the deploy hangs
            logger.exception("schema migrations failed")
            status = "FAILED"
            # The type only: driver messages may quote statements; details are in the function's log.
            reason = f"schema migrations failed ({type(exc).__name__}); see log stream {log_stream}"
        else:
            reason = f"schema at revision {revision}"
            data = {"Revision": revision or ""}
            logger.info("schema migrated", extra={"revision": revision})
    else:
        reason = "schema left as it is"
    body = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_RESOURCE_ID,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "NoEcho": False,
        "Data": data,
    }
    send(str(event.get("ResponseURL")), body)
    return body
