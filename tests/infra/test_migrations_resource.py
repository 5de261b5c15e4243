"""The SchemaMigrations custom resource: migrates on Create/Update, answers CloudFormation over HTTP,
reports failures as FAILED and never fails (or touches the schema on) a Delete."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from eduautismo.db.engine import normalize_database_url
from eduautismo.db.migrate import MIGRATIONS_DIR
from eduautismo_local.events import LocalLambdaContext
from eduautismo_local.template_routes import function_source, load_handler
from tests.infra.conftest import CloudFormationEndpoint


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


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    handler = load_handler(*function_source("MigrationsFunction"))
    return handler(event, LocalLambdaContext(function_name="migrations", log_stream_name="2026/11/25/[1]abc"))


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
