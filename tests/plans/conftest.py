"""Fixtures of the plans feature: a controllable clock and shortcuts for the API calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from eduautismo.clock import FixedClock
from eduautismo.plans import routes
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor


@pytest.fixture
def set_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], FixedClock]:
    """``set_now(instant)``: the plans API sees ``instant`` as now (and so the organization's today)."""

    def apply(instant: datetime) -> FixedClock:
        fixed = FixedClock(instant)
        monkeypatch.setattr(routes, "clock", fixed)
        return fixed

    return apply


PENDING_REVIEW = "/api/v1/intervention-plans/pending-review"
PLANS = "/api/v1/intervention-plans"
STUDENTS = "/api/v1/students"


def pending(actor: Actor, **query: object) -> ApiResponse:
    """GET the pending-review list as ``actor`` with query parameters given as Python values."""
    encoded = {
        name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in query.items()
    }
    return call_api("GET", PENDING_REVIEW, claims=actor.claims, query=encoded)


def item_ids(response: ApiResponse) -> list[str]:
    assert response.status == 200, response.json
    return [item["id"] for item in response.json["items"]]
