"""The CloudFormation custom resource that brings the schema to head on every deploy (SchemaMigrations),
then creates or updates the application's and health check's logins (``eduautismo.db.roles``).

It answers CloudFormation's custom-resource protocol itself: a JSON document PUT to the presigned
``ResponseURL``. Create and Update migrate; a failure answers FAILED, so the deploy rolls back before
new code meets an old schema. Delete never touches the schema and always answers SUCCESS: a stack
must be deletable even when its database is already gone.

On the first deploy RDS Proxy's target may not be available yet when the resource runs, so the
migration first waits for the database through the proxy (bounded retries with backoff, within the
function's remaining time). The response is sent once: a PUT that fails is logged and the handler
returns normally, because raising would make Lambda retry the event and run the migrations again
(docs/DEPLOY.md, "When a custom resource hangs").
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from eduautismo.db.credentials import read_database_secret
from eduautismo.db.engine import get_engine
from eduautismo.db.migrate import current_revision, upgrade
from eduautismo.db.roles import DatabaseLogin, ensure_application_roles
from eduautismo.db.session_defaults import apply_role_defaults
from eduautismo.observability import logger
from eduautismo.settings import get_settings

PHYSICAL_RESOURCE_ID = "eduautismo-schema-migrations"
RESPONSE_TIMEOUT_SECONDS = 15
# Of the function's remaining time, what the migrations and the response keep (statements may run up to
# 280 s); the rest may be spent waiting for the database.
RESERVED_FOR_MIGRATION_SECONDS = 330
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 20.0

ResponseSender = Callable[[str, dict[str, Any]], None]
Migrator = Callable[[float], str | None]


class DatabaseNotReady(RuntimeError):
    """The database did not accept a connection in time. Its message names no host nor credential, so
    it may go into the FAILED reason CloudFormation shows."""


def wait_for_database(
    engine: Engine,
    budget_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Connect and run ``SELECT 1`` until it works or the budget is spent (doubling pauses, capped);
    returns the number of attempts. Each failed attempt may itself last up to the proxy's borrow timeout."""
    started = clock()
    backoff = FIRST_BACKOFF_SECONDS
    attempts = 0
    while True:
        attempts += 1
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError as exc:
            elapsed = clock() - started
            logger.warning(
                "database not reachable yet", extra={"attempt": attempts, "error": type(exc.orig).__name__}
            )
            if elapsed + backoff > budget_seconds:
                raise DatabaseNotReady(
                    f"waited {elapsed:.0f} s ({attempts} attempts) for the database to accept connections "
                    "through RDS Proxy (is the proxy's target available?)"
                ) from None
            sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        else:
            return attempts


def _login(secret_arn: str) -> DatabaseLogin:
    secret = read_database_secret(secret_arn)
    return DatabaseLogin(username=str(secret["username"]), password=str(secret["password"]))


def migrate_to_head(
    wait_budget_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """Schema to head as the owner once the database answers; then the logins, when the stack names their
    secrets (in AWS always)."""
    engine = get_engine()
    wait_for_database(engine, wait_budget_seconds, sleep=sleep, clock=clock)
    upgrade(engine)
    settings = get_settings()
    if settings.application_database_secret_arn and settings.health_database_secret_arn:
        application = _login(settings.application_database_secret_arn)
        health = _login(settings.health_database_secret_arn)
        ensure_application_roles(engine, application=application, health=health)
        # On every deploy, as the passwords: logins created after the migration ran get the session
        # defaults too, and a changed DATABASE_DEFAULT_STATEMENT_TIMEOUT_MS reaches them.
        with engine.begin() as connection:
            owner = str(connection.scalar(text("SELECT current_user")))
            apply_role_defaults(connection, [owner, application.username, health.username], settings)
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
    remaining_seconds: float,
    migrate: Migrator = migrate_to_head,
    send: ResponseSender = send_response,
) -> dict[str, Any]:
    request_type = event.get("RequestType")
    status, reason, data = "SUCCESS", "", {}
    if request_type in ("Create", "Update"):
        try:
            revision = migrate(max(remaining_seconds - RESERVED_FOR_MIGRATION_SECONDS, 0.0))
        except Exception as exc:  # any failure must reach CloudFormation, or the deploy hangs
            logger.exception("schema migrations failed")
            status = "FAILED"
            # Driver messages may quote statements: only our own safe message, else the type; details
            # are in the function's log.
            detail = (
                f"{type(exc).__name__}: {exc}" if isinstance(exc, DatabaseNotReady) else type(exc).__name__
            )
            reason = f"schema migrations failed ({detail}); see log stream {log_stream}"
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
    try:
        send(str(event.get("ResponseURL")), body)
    except Exception as exc:  # raising would make Lambda retry the event, migrating again
        logger.error(
            "could not answer CloudFormation; the stack waits for the resource's ServiceTimeout",
            extra={"status": status, "error": type(exc).__name__},
        )
    return body
