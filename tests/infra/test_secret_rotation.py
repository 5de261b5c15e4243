"""After Secrets Manager rotates the database password or the cache AUTH token, the next connections
of a warm container use the new value (rotation never needs a redeploy or a cold start)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from eduautismo.cache.client import SecretPassword, build_redis
from eduautismo.db.engine import build_engine, normalize_database_url
from eduautismo.settings import Settings


@pytest.fixture
def secrets() -> Iterator[Any]:
    parameters.clear_caches()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="sa-east-1")
    parameters.clear_caches()


@pytest.fixture
def rotated_role(service_urls: dict[str, str]) -> Iterator[str]:
    """A login role of our own on the test server, dropped afterwards."""
    name = f"eduautismo_rotated_{uuid.uuid4().hex[:8]}"
    admin_url, connect_args = normalize_database_url(service_urls["database"])
    admin = create_engine(admin_url, connect_args=connect_args, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{name}" LOGIN'))
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
    admin.dispose()


def _current_user(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.scalar(text("SELECT current_user")))


def test_new_database_connections_use_the_rotated_secret(
    db: Engine, service_urls: dict[str, str], secrets: Any, rotated_role: str
) -> None:
    # Given an engine built, as in AWS, from an RDS-format secret and the proxy host
    url = make_url(service_urls["database"])
    secret = secrets.create_secret(
        Name="eduautismo/db",
        SecretString=json.dumps({"username": url.username, "password": "first", "port": url.port or 5432}),
    )
    settings = Settings(
        database_url=None,
        database_secret_arn=secret["ARN"],
        database_host=url.host,
        database_name=url.database,
    )
    engine = build_engine(settings)
    assert _current_user(engine) == url.username
    # When the secret is rotated (new credentials) and the pool opens its next connection
    secrets.put_secret_value(
        SecretId=secret["ARN"],
        SecretString=json.dumps({"username": rotated_role, "password": "second", "port": url.port or 5432}),
    )
    parameters.clear_caches()  # the few minutes of caching have passed
    engine.dispose()
    # Then that connection logs in with the rotated credentials, without rebuilding the engine
    assert _current_user(engine) == rotated_role
    engine.dispose()


def test_cache_connections_read_the_current_auth_token(secrets: Any) -> None:
    # Given a Redis client configured, as in AWS, with the AUTH token's secret
    secret = secrets.create_secret(Name="eduautismo/redis", SecretString="token-one")
    client = build_redis(
        Settings(redis_url="rediss://cache.internal:6379/0", redis_auth_secret_arn=secret["ARN"])
    )
    assert client is not None
    provider = client.connection_pool.connection_kwargs["credential_provider"]
    assert isinstance(provider, SecretPassword)
    assert provider.get_credentials() == ("token-one",)
    # When the token is rotated
    secrets.put_secret_value(SecretId=secret["ARN"], SecretString="token-two")
    parameters.clear_caches()
    # Then the next connection authenticates with the new token
    assert provider.get_credentials() == ("token-two",)
