"""HTTP routes of the students and plans function: translate requests into service calls, nothing more."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.app import current_principal
from eduautismo.cache.manager import get_cache_manager
from eduautismo.clock import Clock, SystemClock
from eduautismo.db.engine import session_scope
from eduautismo.plans import service
from eduautismo.plans.pending_review import PendingReviewQuery, PendingReviewWindow
from eduautismo.plans.schemas import PlanCreate, PlanUpdate, ReviewCreate

router = APIGatewayHttpRouter()

# The clock adapter: "today" is the organization's local date at this instant (tests substitute it).
clock: Clock = SystemClock()


def _json(status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _window() -> PendingReviewWindow:
    return service.organization_window(session_scope, current_principal(router), clock)


@router.post("/intervention-plans", summary="Create an intervention plan", tags=["plans"])
def create_plan(body: PlanCreate) -> Response[Any]:
    principal = current_principal(router)
    window = _window()
    with session_scope() as session:
        created = service.create_plan(session, principal, body, window)
    service.invalidate_pending_review(get_cache_manager(), principal.organization_id)
    return _json(201, created)


@router.get("/intervention-plans/pending-review", summary="Plans due for review", tags=["plans"])
def list_pending_review(query: Annotated[PendingReviewQuery, Query()]) -> Response[Any]:
    payload, status = service.pending_review(
        session_scope,
        get_cache_manager(),
        current_principal(router),
        query.filters(),
        _window(),
        query.page(),
        use_cache=query.use_cache,
    )
    return _json(200, payload, {"X-Cache": status.value})


@router.get("/intervention-plans/<plan_id>", summary="One intervention plan", tags=["plans"])
def get_plan(plan_id: uuid.UUID) -> Response[Any]:
    principal = current_principal(router)
    window = _window()
    with session_scope() as session:
        return _json(200, service.get_plan(session, principal, plan_id, window))


@router.patch("/intervention-plans/<plan_id>", summary="Change an intervention plan", tags=["plans"])
def update_plan(plan_id: uuid.UUID, body: PlanUpdate) -> Response[Any]:
    principal = current_principal(router)
    window = _window()
    with session_scope() as session:
        updated = service.update_plan(session, principal, plan_id, body, window)
    service.invalidate_pending_review(get_cache_manager(), principal.organization_id)
    return _json(200, updated)


@router.post("/intervention-plans/<plan_id>/reviews", summary="Record a review now", tags=["plans"])
def review_plan(plan_id: uuid.UUID, body: Annotated[ReviewCreate | None, Body()] = None) -> Response[Any]:
    principal = current_principal(router)
    window = _window()
    with session_scope() as session:
        reviewed = service.review_plan(session, principal, plan_id, body or ReviewCreate(), window, clock)
    service.invalidate_pending_review(get_cache_manager(), principal.organization_id)
    return _json(201, reviewed)
