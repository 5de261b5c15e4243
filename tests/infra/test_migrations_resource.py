"""The SchemaMigrations custom resource: migrates on Create/Update, answers CloudFormation over HTTP,
reports failures as FAILED and never fails (or touches the schema on) a Delete; waits for a proxy whose
target is not available yet; never raises when its answer cannot be delivered (Lambda would retry)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from eduautismo.db.engine import normalize_database_url
from eduautismo.db.migrate import MIGRATIONS_DIR
from eduautismo.db.migration_resource import (
    RESERVED_FOR_MIGRATION_SECONDS,
    handle_migration_event,
    migrate_to_head,
)
from eduautismo_local.events import LocalLambdaContext
from eduautismo_local.template_routes import function_source, load_handler
from tests.infra.conftest import CloudFormationEndpoint
from tests.support.faults import TcpProxy


def _event(request_type: str, response_url: str, physical_id: str | None = None) -> dict[str, Any]:
    event = {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:sa-east-1:000000000000:function:migrations",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:sa-east-1:000000000000:stack/eduautismo-planos-dev/abc",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "SchemaMigrations",
        "ResourceType": "Custom::SchemaMigrations",
        "ResourceProperties": {"SharedLayerVersion": "arn:aws:lambda:sa-east-1:000000000000:layer:x:3"},
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


def _invoke(event: dict[str, Any], timeout_seconds: float = 30.0) -> dict[str, Any]:
    handler = load_handler(*function_source("MigrationsFunction"))
    context = LocalLambdaContext(
        function_name="migrations", log_stream_name="2026/11/25/[1]abc", timeout_seconds=timeout_seconds
    )
    return handler(event, context)


def _tables(database_url: str) -> set[str]:
    url, connect_args = normalize_database_url(database_url)
    engine = create_engine(url, connect_args=connect_args)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_create_migrates_an_empty_database_and_answers_success(
    override_settings: Callable[..., None], empty_database: str, cloudformation: CloudFormationEndpoint
) -> None:
    # Given a new stack whose database has no tables yet
    override_settings(database_url=empty_database)
    event = _event("Create", cloudformation.url)
    # When CloudFormation creates the custom resource
    _invoke(event)
    # Then the schema is at head and CloudFormation got one SUCCESS naming the request and the revision
    assert {"organizations", "users", "intervention_plans", "alembic_version"} <= _tables(empty_database)
    [answer] = cloudformation.responses
    assert answer["Status"] == "SUCCESS"
    assert (answer["RequestId"], answer["StackId"], answer["LogicalResourceId"]) == (
        event["RequestId"],
        event["StackId"],
        "SchemaMigrations",
    )
    assert answer["PhysicalResourceId"] == "eduautismo-schema-migrations"
    assert answer["Data"]["Revision"] == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    # The presigned URL was signed without a content type: sending one would break the signature
    assert cloudformation.content_types == [""]


def test_update_of_a_migrated_database_keeps_the_physical_id(
    override_settings: Callable[..., None], empty_database: str, cloudformation: CloudFormationEndpoint
) -> None:
    # Given a database migrated by an earlier deploy
    override_settings(database_url=empty_database)
    _invoke(_event("Create", cloudformation.url))
    # When a later deploy (new layer version) updates the resource
    _invoke(_event("Update", cloudformation.url, physical_id="eduautismo-schema-migrations"))
    # Then the rerun succeeds and the resource is not replaced
    assert [answer["Status"] for answer in cloudformation.responses] == ["SUCCESS", "SUCCESS"]
    assert cloudformation.responses[1]["PhysicalResourceId"] == "eduautismo-schema-migrations"


def test_a_failed_migration_answers_failed_without_connection_details(
    override_settings: Callable[..., None], cloudformation: CloudFormationEndpoint
) -> None:
    # Given a database that refuses connections (credentials in the URL)
    override_settings(
        database_url="postgresql://migrator:s3cret-pass@127.0.0.1:1/eduautismo",
    )
    # When CloudFormation updates the resource
    _invoke(_event("Update", cloudformation.url, physical_id="eduautismo-schema-migrations"))
    # Then it answers FAILED (the deploy rolls back) with a reason that leaks no credentials or host
    [answer] = cloudformation.responses
    assert answer["Status"] == "FAILED"
    assert "s3cret" not in answer["Reason"] and "127.0.0.1" not in answer["Reason"]
    assert "2026/11/25/[1]abc" in answer["Reason"]


def test_delete_never_fails_and_leaves_the_schema(
    override_settings: Callable[..., None], empty_database: str, cloudformation: CloudFormationEndpoint
) -> None:
    # Given a migrated database, and then one that is already gone
    override_settings(database_url=empty_database)
    _invoke(_event("Create", cloudformation.url))
    tables_before = _tables(empty_database)
    for database_url in (empty_database, "postgresql://nobody@127.0.0.1:1/gone"):
        override_settings(database_url=database_url)
        # When CloudFormation deletes the resource
        _invoke(_event("Delete", cloudformation.url, physical_id="eduautismo-schema-migrations"))
    # Then both deletes answer SUCCESS and no table was dropped
    assert [answer["Status"] for answer in cloudformation.responses] == ["SUCCESS"] * 3
    assert _tables(empty_database) == tables_before


def test_an_answer_s3_refuses_is_logged_and_the_event_is_not_retried(
    override_settings: Callable[..., None], empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a response URL that answers 403 (an endpoint policy that does not admit the PUT)
    override_settings(database_url=empty_database)
    with CloudFormationEndpoint(status=403) as refusing:
        # When CloudFormation creates the resource
        body = _invoke(_event("Create", refusing.url))
    # Then the handler returns (raising would make Lambda run the event, and the migrations, again)
    assert body["Status"] == "SUCCESS" and len(refusing.responses) == 1
    # And the log says the answer was lost, and why the stack now waits
    assert any("could not answer CloudFormation" in message for message in caplog.messages)


def test_the_migration_waits_for_a_proxy_whose_target_is_not_available_yet(
    override_settings: Callable[..., None], empty_database: str, cloudformation: CloudFormationEndpoint
) -> None:
    # Given a proxy that drops the first two connections, as RDS Proxy does before its target is healthy
    url = make_url(empty_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432, dropped=2)
    proxy.start()
    try:
        override_settings(
            database_url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        )
        # When the first deploy creates the resource (the function has 900 s)
        _invoke(_event("Create", cloudformation.url), timeout_seconds=900)
    finally:
        proxy.stop()
    # Then it retried until the proxy routed, migrated and answered SUCCESS
    [answer] = cloudformation.responses
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert proxy.accepted > 2
    assert "alembic_version" in _tables(empty_database)


class SteppedTime:
    """A monotonic clock that moves only when the code sleeps, so backoff runs without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def test_a_database_that_never_answers_fails_naming_what_it_waited_for(
    override_settings: Callable[..., None], cloudformation: CloudFormationEndpoint
) -> None:
    # Given a proxy endpoint that never accepts a connection, and 100 s to wait in
    override_settings(database_url="postgresql://migrator:s3cret-pass@127.0.0.1:1/eduautismo")
    time = SteppedTime()
    # When CloudFormation creates the resource
    body = handle_migration_event(
        _event("Create", cloudformation.url),
        log_stream="2026/11/25/[1]abc",
        remaining_seconds=RESERVED_FOR_MIGRATION_SECONDS + 100,
        migrate=partial(migrate_to_head, sleep=time.sleep, clock=time.clock),
    )
    # Then it backed off (doubling, capped) within the budget, and its FAILED reason says what it
    # waited for, without host or credentials
    assert time.pauses == [1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0, 20.0]
    assert body["Status"] == "FAILED"
    waited = "waited 91 s (9 attempts) for the database to accept connections through RDS Proxy"
    assert waited in body["Reason"]
    assert "s3cret" not in body["Reason"] and "127.0.0.1" not in body["Reason"]
