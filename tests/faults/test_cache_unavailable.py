"""Redis stopped or unreachable: requests are served from the database, within the short cache timeouts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from eduautismo.domain import Role
from eduautismo_local.embedded import free_port
from tests.support.api import call_api
from tests.support.factories import Factory
from tests.support.faults import black_hole


@pytest.fixture(params=["stopped", "black_hole"])
def broken_redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Stopped: nothing listens on the port (connection refused). Black hole: the connection is accepted
    and no reply ever comes, so only the command timeout ends the call."""
    if request.param == "stopped":
        yield f"redis://127.0.0.1:{free_port()}/0"
    else:
        with black_hole() as port:
            yield f"redis://127.0.0.1:{port}/0"


def test_health_is_200_and_reports_the_cache_down(
    db: Engine, override_settings: Callable[..., None], broken_redis_url: str
) -> None:
    # Given Redis stopped or unreachable
    override_settings(redis_url=broken_redis_url)
    # When the health is asked
    response = call_api("GET", "/api/v1/health")
    # Then the API is up, served by the database, and says the cache is down
    assert response.status == 200
    assert response.json == {**response.json, "status": "degraded", "database": "ok", "cache": "down"}


@pytest.mark.parametrize(
    "path", ["/api/v1/intervention-plans/pending-review", "/api/v1/notifications/unread-count"]
)
def test_authenticated_reads_are_200_from_the_database(
    factory: Factory, override_settings: Callable[..., None], broken_redis_url: str, path: str
) -> None:
    # Given a professional with a plan due for review, and Redis stopped or unreachable
    organization = factory.organization()
    professional = factory.user(organization, Role.PROFESSIONAL)
    factory.plan(professional, review_frequency="daily", start_date=date.today() - timedelta(days=10))
    override_settings(redis_url=broken_redis_url)
    # When the professional reads
    response = call_api("GET", path, claims=professional.claims)
    # Then the answer comes from the database
    assert response.status == 200
    assert response.header("X-Cache") in (None, "BYPASS")
