"""GET /api/v1/health through the function template.yaml routes it to."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from tests.support.api import call_api


def test_health_reports_database_and_cache_without_a_token(db: Engine) -> None:
    response = call_api("GET", "/api/v1/health")
    assert response.status == 200
    assert response.json == {"status": "ok", "database": "ok", "cache": "ok", "version": "0.1.0"}


def test_health_is_503_when_the_database_is_down(db: Engine, override_settings: Callable[..., None]) -> None:
    # Given a database URL where nothing listens
    override_settings(
        database_url="postgresql://postgres@127.0.0.1:1/none", database_socket_timeout_seconds="1"
    )
    # When health is asked
    response = call_api("GET", "/api/v1/health")
    # Then it answers 503 with the same shape, and when to ask again
    assert response.status == 503
    assert response.json["database"] == "down" and response.json["status"] == "down"
    assert {name.lower(): value for name, value in response.headers.items()}["retry-after"] == "1"


def test_health_is_200_degraded_when_the_cache_is_unreachable(
    db: Engine, override_settings: Callable[..., None]
) -> None:
    override_settings(redis_url="redis://127.0.0.1:1/0")
    response = call_api("GET", "/api/v1/health")
    assert response.status == 200
    assert response.json["cache"] == "down" and response.json["status"] == "degraded"
