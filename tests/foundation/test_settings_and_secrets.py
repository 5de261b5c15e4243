"""Settings are read lazily; in AWS the database credentials come from Secrets Manager."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from eduautismo.db.engine import database_url, normalize_database_url
from eduautismo.settings import Settings


def test_settings_read_the_environment_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEW_DUE_SOON_DAYS", "5")
    monkeypatch.setenv("EXPORT_URL_TTL_SECONDS", "600")
    settings = Settings()
    assert (settings.review_due_soon_days, settings.export_url_ttl_seconds) == (5, 600)


def test_database_url_is_built_from_the_rds_secret_through_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "sa-east-1")
    with mock_aws():
        # Given an RDS-format secret in Secrets Manager and the proxy endpoint in the settings
        secret = boto3.client("secretsmanager", region_name="sa-east-1").create_secret(
            Name="eduautismo/db",
            SecretString=json.dumps(
                {
                    "username": "app",
                    "password": "p@ss/word",
                    "host": "aurora.internal",
                    "port": 5432,
                    "dbname": "eduautismo",
                }
            ),
        )
        settings = Settings(
            database_url=None, database_secret_arn=secret["ARN"], database_host="proxy.internal"
        )
        # When the URL is resolved
        url, _ = normalize_database_url(database_url(settings))
    # Then it points at the proxy with the secret's credentials (password escaped)
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "proxy.internal",
        5432,
        "eduautismo",
        "app",
        "p@ss/word",
    )
    assert url.drivername == "postgresql+pg8000"


def test_a_libpq_socket_directory_becomes_a_pg8000_unix_socket() -> None:
    url, connect_args = normalize_database_url("postgresql://postgres:@/postgres?host=/run/pgdata")
    assert url.drivername == "postgresql+pg8000" and url.host is None
    assert connect_args == {"unix_sock": "/run/pgdata/.s.PGSQL.5432"}


def test_without_url_or_secret_the_database_is_not_configured() -> None:
    with pytest.raises(RuntimeError):
        database_url(Settings(database_url=None, database_secret_arn=None))
