"""The one settings object. Read lazily on first use, never at import time."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eduautismo import __version__


class Settings(BaseSettings):
    """Every setting of the backend, from environment variables of the same name (upper case)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    environment: Literal["local", "test", "dev", "prod"] = "local"
    app_version: str = __version__
    aws_region: str = Field(default="sa-east-1", validation_alias="AWS_REGION")

    # Database: a URL locally; in AWS a Secrets Manager secret (RDS format) plus the proxy host.
    database_url: str | None = None
    database_secret_arn: str | None = None
    # The migrations function only: the logins it creates (the application's and the health check's).
    application_database_secret_arn: str | None = None
    health_database_secret_arn: str | None = None
    database_host: str | None = None
    database_name: str = "eduautismo"
    database_ssl: bool = False
    # pg8000 applies one socket timeout to connecting and to every read: keep it above statement_timeout.
    database_socket_timeout_seconds: float = 30.0
    database_statement_timeout_ms: int = 15_000
    db_pool_size: int = 2

    # Cache: redis://, rediss://, or memory:// (in-process stand-in, local mode only).
    redis_url: str | None = None
    redis_auth_secret_arn: str | None = None
    redis_connect_timeout_ms: int = 100
    redis_command_timeout_ms: int = 200
    cache_breaker_seconds: float = 5.0
    cache_key_prefix: str = "eduautismo"
    pending_review_cache_ttl: int = Field(default=300, ge=1)
    cache_ttl_jitter_ratio: float = Field(default=0.1, ge=0, le=0.5)
    # Stampede protection: one caller rebuilds a missing page under a short lock, the others wait for it.
    cache_rebuild_lock_ms: int = Field(default=3_000, ge=10)
    cache_rebuild_wait_ms: int = Field(default=2_000, ge=0)
    cache_rebuild_poll_ms: int = Field(default=10, ge=1)
    # Organization timezones rarely change: kept in-process so a cache hit needs no database round trip.
    organization_timezone_ttl_seconds: int = Field(default=300, ge=0)

    # Domain rules.
    review_due_soon_days: int = Field(default=3, ge=0)
    escalate_after_days: int = Field(default=7, ge=1)
    notification_retention_days: int = Field(default=30, ge=1)
    # Rows deleted per transaction by the daily cleanup (short locks, resumable).
    notification_cleanup_batch_size: int = Field(default=5_000, ge=1)
    # Plans per reminder statement of the daily job (bounded statement time and transaction size).
    daily_job_plan_batch_size: int = Field(default=5_000, ge=1)

    # Exports.
    export_bucket: str | None = None
    # KMS key of the export objects (the stack key in AWS); unset = SSE-S3 (local mode).
    export_kms_key_id: str | None = None
    s3_endpoint_url: str | None = None
    export_url_ttl_seconds: int = Field(default=900, ge=1, le=604_800)
    export_sync_max_rows: int = Field(default=10_000, ge=1)
    exports_per_user_per_day: int = Field(default=50, ge=1)
    export_worker_function_name: str | None = None
    export_dispatch: Literal["lambda", "thread"] = "lambda"

    # Identity in local mode (in AWS the HTTP API JWT authorizer checks tokens).
    local_jwt_secret: str = "eduautismo-local-dev-secret-change-me"  # noqa: S105 - local-only default
    local_jwt_issuer: str = "eduautismo-local"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
