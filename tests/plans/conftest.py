"""Shortcuts for the plans API calls (the clock is the suite's ``set_now`` fixture)."""

from __future__ import annotations

from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor

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
