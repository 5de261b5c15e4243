"""The one settings object. Read lazily on first use, never at import time.

A plain dataclass over ``os.environ`` (variable = field name in upper case): pydantic-settings cost every
function ~60 ms of import for what a few typed reads do. Keyword arguments override the environment
(tests); a value out of its range raises ``ValueError`` naming the variable, as a bad deploy should.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast, get_args

from eduautismo import __version__, resettable

T = TypeVar("T")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        raise ValueError("expected true or false")
    return value in _TRUE


def _env(
    default: T,
    parse: Callable[[str], T],
    *,
    name: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
) -> T:
    """A dataclass field read from the environment variable of its name when the object is built."""

    def read(variable: str) -> T:
        raw = os.environ.get(variable)
        if raw is None:
            return default
        try:
            value = parse(raw)
        except ValueError as exc:
            raise ValueError(f"{variable}: {exc}") from None
        if choices and value not in choices:
            raise ValueError(f"{variable}: expected one of {', '.join(choices)}")
        number = cast(float, value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise ValueError(f"{variable}: expected a value in [{minimum}, {maximum}]")
        return value

    return field(default=cast(T, _Unset(read, name)))


def _optional_str(raw: str) -> str | None:
    return raw or None


Environment = Literal["local", "test", "dev", "prod"]
ExportDispatch = Literal["lambda", "thread"]


def _environment(raw: str) -> Environment:
    return cast(Environment, raw)


def _export_dispatch(raw: str) -> ExportDispatch:
    return cast(ExportDispatch, raw)


@dataclass(frozen=True)
class _Unset:
    """Placeholder default replaced in ``__post_init__`` by the environment's value (or the default)."""

    read: Callable[[str], Any]
    name: str | None


@dataclass(frozen=True)
class Settings:
    """Every setting of the backend, from environment variables of the same name (upper case)."""

    environment: Literal["local", "test", "dev", "prod"] = _env(
        "local", _environment, choices=get_args(Environment)
    )
    app_version: str = _env(__version__, str)
    aws_region: str = _env("sa-east-1", str, name="AWS_REGION")

    # Database: a URL locally; in AWS a Secrets Manager secret (RDS format) plus the proxy host.
    database_url: str | None = _env(None, _optional_str)
    database_secret_arn: str | None = _env(None, _optional_str)
    # The migrations function only: the logins it creates (the application's and the health check's).
    application_database_secret_arn: str | None = _env(None, _optional_str)
    health_database_secret_arn: str | None = _env(None, _optional_str)
    database_host: str | None = _env(None, _optional_str)
    database_name: str = _env("eduautismo", str)
    database_ssl: bool = _env(False, _parse_bool)
    # pg8000 applies one socket timeout to connecting and to every read: keep it above statement_timeout.
    database_socket_timeout_seconds: float = _env(30.0, float)
    database_statement_timeout_ms: int = _env(15_000, int, minimum=0)
    # The statement timeout every session of the logins starts with (a role default the migrations set):
    # a function whose DATABASE_STATEMENT_TIMEOUT_MS differs sets its own per transaction (SET LOCAL).
    database_default_statement_timeout_ms: int = _env(15_000, int, minimum=0)
    db_pool_size: int = _env(2, int, minimum=1)
    # Connections a container may open beyond the pool when all are busy: the per-container ceiling is
    # DB_POOL_SIZE + DB_MAX_OVERFLOW (the connection budget in docs/DEPLOY.md counts it).
    db_max_overflow: int = _env(2, int, minimum=0, maximum=10)
    # How long a request waits for one of those connections before answering 503 with Retry-After.
    db_pool_timeout_seconds: float = _env(5.0, float, minimum=0.1)
    # A pooled connection idle longer than this is closed instead of lent: below RDS Proxy's
    # IdleClientTimeout (900 s in infra/stacks/database.yaml), so the proxy never closes one under us.
    db_idle_seconds: float = _env(300.0, float, minimum=0.1)

    # Cache: redis://, rediss://, or memory:// (in-process stand-in, local mode only).
    redis_url: str | None = _env(None, _optional_str)
    redis_auth_secret_arn: str | None = _env(None, _optional_str)
    redis_connect_timeout_ms: int = _env(100, int)
    redis_command_timeout_ms: int = _env(200, int)
    cache_breaker_seconds: float = _env(5.0, float)
    cache_key_prefix: str = _env("eduautismo", str)
    pending_review_cache_ttl: int = _env(300, int, minimum=1)
    cache_ttl_jitter_ratio: float = _env(0.1, float, minimum=0, maximum=0.5)
    # Stampede protection: one caller rebuilds a missing page under a short lock, the others wait for it.
    cache_rebuild_lock_ms: int = _env(3_000, int, minimum=10)
    cache_rebuild_wait_ms: int = _env(2_000, int, minimum=0)
    cache_rebuild_poll_ms: int = _env(10, int, minimum=1)
    # Organization timezones rarely change: kept in-process so a cache hit needs no database round trip.
    organization_timezone_ttl_seconds: int = _env(300, int, minimum=0)

    # Rate limits per caller (user, or source address without login): GCRA over the window, in Redis.
    rate_limit_enabled: bool = _env(True, _parse_bool)
    rate_limit_reads: int = _env(50, int, minimum=1)
    rate_limit_writes: int = _env(20, int, minimum=1)
    rate_limit_window_seconds: int = _env(10, int, minimum=1, maximum=3_600)
    # Idempotency-Key records: how long a retried write answers its first answer again.
    idempotency_ttl_seconds: int = _env(86_400, int, minimum=60)

    # Domain rules.
    review_due_soon_days: int = _env(3, int, minimum=0)
    escalate_after_days: int = _env(7, int, minimum=1)
    # Above this many reminders of one type in a run, a user gets one summary row instead.
    reminder_digest_threshold: int = _env(5, int, minimum=1)
    notification_retention_days: int = _env(30, int, minimum=1)
    # Rows deleted per transaction by the daily cleanup (short locks, resumable).
    notification_cleanup_batch_size: int = _env(5_000, int, minimum=1)
    # Plans per reminder statement of the daily job (bounded statement time and transaction size).
    daily_job_plan_batch_size: int = _env(5_000, int, minimum=1)

    # Exports.
    export_bucket: str | None = _env(None, _optional_str)
    # KMS key of the export objects (the stack key in AWS); unset = SSE-S3 (local mode).
    export_kms_key_id: str | None = _env(None, _optional_str)
    s3_endpoint_url: str | None = _env(None, _optional_str)
    export_url_ttl_seconds: int = _env(900, int, minimum=1, maximum=604_800)
    # How long after an export succeeded /export/jobs/{id} still mints a link to it.
    export_relink_window_seconds: int = _env(3600, int, minimum=0, maximum=86_400)
    export_sync_max_rows: int = _env(10_000, int, minimum=1)
    exports_per_user_per_day: int = _env(50, int, minimum=1)
    export_worker_function_name: str | None = _env(None, _optional_str)
    export_dispatch: Literal["lambda", "thread"] = _env(
        "lambda", _export_dispatch, choices=get_args(ExportDispatch)
    )

    # Email digest (README "Reminders").
    app_base_url: str = _env("http://127.0.0.1:3000", str)  # the front end the digest links to
    api_base_url: str = _env("http://127.0.0.1:3000", str)  # where the unsubscribe link points
    email_from: str = _env("EduAutismo Planos <lembretes@eduautismo.example>", str)
    email_configuration_set: str | None = _env(None, _optional_str)
    digest_queue_url: str | None = _env(None, _optional_str)
    digest_max_plans: int = _env(20, int, minimum=1)  # plans listed per section; the rest are counted
    # In AWS: a Secrets Manager secret (plain string) keys the unsubscribe tokens; locally the setting below.
    unsubscribe_secret_arn: str | None = _env(None, _optional_str)
    local_unsubscribe_secret: str = _env("eduautismo-local-unsubscribe-secret-change-me", str)

    # Identity in local mode (in AWS the HTTP API JWT authorizer checks tokens).
    local_jwt_secret: str = _env("eduautismo-local-dev-secret-change-me", str)
    local_jwt_issuer: str = _env("eduautismo-local", str)

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, _Unset):
                object.__setattr__(self, name, value.read(value.name or name.upper()))


# Kept across a SnapStart restore: the environment does not change.
@resettable.once(restore="keep")
def get_settings() -> Settings:
    return Settings()
