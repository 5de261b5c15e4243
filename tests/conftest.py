"""Suite-wide fixtures: a private PostgreSQL database and Redis key prefix per run, migrated once;
every test that uses the database gets empty tables afterwards."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from eduautismo.clock import FixedClock
from eduautismo_local.embedded import stop_embedded_postgres
from tests.support import services
from tests.support.factories import Factory
from tests.support.pinning import PinningDetector

ROOT = Path(__file__).resolve().parents[1]
for function_dir in sorted((ROOT / "functions").iterdir()):
    if function_dir.is_dir() and str(function_dir) not in sys.path:
        sys.path.insert(0, str(function_dir))

TABLES = (
    "email_suppressions",
    "student_erasures",
    "export_jobs",
    "notification_inboxes",
    "notifications",
    "plan_reviews",
    "intervention_plans",
    "students",
    "users",
    "organizations",
)


def pytest_report_header() -> list[str]:
    return services.describe()


@pytest.fixture(scope="session", autouse=True)
def pinning_detector() -> Iterator[PinningDetector]:
    """Every statement of the run is watched; any that leaves session state on a connection (a session
    SET, PREPARE, LISTEN, a temporary table, ...) fails the run at its end (docs/DEPLOY.md)."""
    detector = PinningDetector()
    detector.install()
    yield detector
    detector.remove()
    if detector.violations:
        found = "\n  ".join(sorted(set(detector.violations))[:20])
        pytest.fail(f"statements that pin a connection behind RDS Proxy were sent:\n  {found}", pytrace=False)


@pytest.fixture(scope="session")
def service_urls() -> Iterator[dict[str, str]]:
    server_url, embedded = services.server_database_url()
    database_url = services.create_private_database(server_url)
    # DATABASE_PROXY=pgbouncer: the application reaches its database through PgBouncer in transaction
    # mode with a small server pool, as it reaches Aurora through RDS Proxy.
    proxy = services.database_proxy(server_url)
    urls = {
        "server": server_url,
        "direct_database": database_url,
        "database": proxy.url(database_url) if proxy else database_url,
        "redis": services.redis_url(),
        "cache_prefix": f"eduautismo-test-{uuid.uuid4().hex[:8]}",
    }
    yield urls
    if proxy is not None:
        proxy.stop()
    services.drop_database(server_url, database_url)
    if embedded is not None:
        stop_embedded_postgres(embedded)


@pytest.fixture(scope="session")
def migrated_engine(service_urls: dict[str, str]) -> Iterator[Engine]:
    from eduautismo.db.engine import get_engine
    from eduautismo.db.migrate import upgrade
    from eduautismo.runtime import reset_runtime

    os.environ.update(services.base_environment())
    os.environ["DATABASE_URL"] = service_urls["database"]
    os.environ["REDIS_URL"] = service_urls["redis"]
    os.environ["CACHE_KEY_PREFIX"] = service_urls["cache_prefix"]
    reset_runtime()
    engine = get_engine()
    upgrade(engine)
    yield engine
    from eduautismo.cache.client import get_redis

    services.purge_cache_prefix(get_redis(), service_urls["cache_prefix"])
    reset_runtime()


@pytest.fixture
def db(migrated_engine: Engine) -> Iterator[Engine]:
    """The migrated database; every table is emptied after the test."""
    from eduautismo.identity import provisioning

    yield migrated_engine
    provisioning._provisioned.clear()
    with migrated_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))


@pytest.fixture
def factory(db: Engine) -> Factory:
    return Factory(db)


@pytest.fixture
def override_settings(
    monkeypatch: pytest.MonkeyPatch, migrated_engine: Engine
) -> Iterator[Callable[..., None]]:
    """``override_settings(redis_url="...")`` for one test; the runtime is rebuilt now and afterwards."""
    from eduautismo.runtime import reset_runtime

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name.upper(), value)
        reset_runtime()

    yield apply
    monkeypatch.undo()
    reset_runtime()


@pytest.fixture
def set_now() -> Iterator[Callable[[datetime], FixedClock]]:
    """``set_now(instant)``: every API function sees ``instant`` as now (and so each organization's today),
    through the clock dependency, until the test ends."""
    from eduautismo.api.dependencies import get_clock
    from tests.support.api import override_dependency

    with ExitStack() as stack:

        def apply(instant: datetime) -> FixedClock:
            fixed = FixedClock(instant)
            stack.enter_context(override_dependency(get_clock, fixed))
            return fixed

        yield apply
