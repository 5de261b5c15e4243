"""PostgreSQL unreachable: 503, never a 500 or a hang; and the same process recovers when it returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from eduautismo.domain import Role
from tests.support.api import call_api
from tests.support.factories import Factory
from tests.support.faults import TcpProxy, black_hole

PENDING_REVIEW = "/api/v1/intervention-plans/pending-review"


@pytest.fixture
def database_proxy(service_urls: dict[str, str]) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy in front of the suite's PostgreSQL, and the suite's database URL through it."""
    url = make_url(service_urls["database"])
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield proxy, through_proxy
    proxy.stop()


def test_database_gone_answers_503_then_recovers_without_restart(
    factory: Factory, override_settings: Callable[..., None], database_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, url = database_proxy
    # Given the API reaching PostgreSQL through the proxy, and answering
    professional = factory.user(factory.organization(), Role.PROFESSIONAL)
    override_settings(database_url=url)
    assert call_api("GET", "/api/v1/health").status == 200
    assert call_api("GET", PENDING_REVIEW, claims=professional.claims).status == 200
    # When PostgreSQL becomes unreachable (open connections cut, new ones refused)
    proxy.stop()
    health = call_api("GET", "/api/v1/health")
    listed = call_api("GET", PENDING_REVIEW, claims=professional.claims, query={"use_cache": "false"})
    # Then health says the database is down and an authenticated route answers the 503 envelope
    assert (health.status, health.json["database"]) == (503, "down")
    assert (listed.status, listed.json["error"]["code"]) == (503, "service_unavailable")
    # When PostgreSQL is back, in the same process (no restart, no reset of the engine)
    proxy.start()
    # Then requests succeed again
    assert call_api("GET", "/api/v1/health").status == 200
    assert call_api("GET", PENDING_REVIEW, claims=professional.claims).status == 200


def test_database_black_hole_answers_503_within_the_socket_timeout(
    db: Engine, override_settings: Callable[..., None]
) -> None:
    # Given a PostgreSQL address that accepts connections and never answers, and a short socket timeout
    with black_hole() as port:
        override_settings(
            database_url=f"postgresql://postgres@127.0.0.1:{port}/eduautismo",
            database_socket_timeout_seconds="0.5",
        )
        # When the API is called
        response = call_api("GET", "/api/v1/health")
    # Then it answers 503 rather than hanging
    assert (response.status, response.json["database"]) == (503, "down")
