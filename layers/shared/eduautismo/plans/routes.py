"""HTTP routes of the intervention plans: translate requests into service calls, nothing more."""

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import (
    DEFAULT_PAGE_LIMIT,
    X_CACHE,
    BoundedDate,
    PageLimit,
    PageSkip,
    json_response,
    responses,
)
from eduautismo.api.dependencies import Ctx
from eduautismo.domain import Priority, ReviewFrequency
from eduautismo.plans import schemas, service

router = APIGatewayHttpRouter()


@router.post(
    "/intervention-plans",
    status_code=201,
    responses=responses(201, 404),
    summary="Create an intervention plan",
    tags=["plans"],
)
def create_plan(body: schemas.PlanCreate, ctx: Ctx) -> schemas.PlanOut:
    return service.create_plan(ctx, body)


@router.get(
    "/intervention-plans/pending-review",
    status_code=200,
    # The body is JSON text (a cache HIT is sent as Redis holds it); its schema is declared here.
    responses=responses(
        200, extra={200: {**json_response("One page", schemas.PlanPage), "headers": X_CACHE}}
    ),
    summary="Plans due for review",
    tags=["plans"],
)
def list_pending_review(
    ctx: Ctx,
    priority: Annotated[Priority | None, Query(description="Only plans of this priority")] = None,
    professional_id: Annotated[
        uuid.UUID | None, Query(description="Only this professional's plans (a professional: themselves)")
    ] = None,
    student_id: Annotated[uuid.UUID | None, Query(description="Only this student's plans")] = None,
    review_frequency: Annotated[ReviewFrequency | None, Query(description="Only this frequency")] = None,
    date_from: Annotated[
        BoundedDate | None, Query(description="Created on or after this day (organization's timezone)")
    ] = None,
    date_to: Annotated[
        BoundedDate | None, Query(description="Created on or before this day; not before date_from")
    ] = None,
    overdue_only: Annotated[bool, Query(description="Only plans already past their due date")] = False,
    skip: PageSkip = 0,
    limit: PageLimit = DEFAULT_PAGE_LIMIT,
    include_student: Annotated[bool, Query(description="Add student {id, full_name} to each item")] = False,
    use_cache: Annotated[bool, Query(description="false reads the database (X-Cache: BYPASS)")] = True,
) -> Response[str]:
    filters = schemas.PendingReviewFilters(
        priority=priority,
        professional_id=professional_id,
        student_id=student_id,
        review_frequency=review_frequency,
        date_from=date_from,
        date_to=date_to,
        overdue_only=overdue_only,
    )
    query = schemas.PendingReviewQuery(filters, schemas.PageRequest(skip, limit, include_student), use_cache)
    page, status = service.pending_review(ctx, query)
    return Response(200, content_types.APPLICATION_JSON, page, headers={"X-Cache": status.value})


@router.get(
    "/intervention-plans/<plan_id>",
    status_code=200,
    responses=responses(200, 404),
    summary="One intervention plan",
    tags=["plans"],
)
def get_plan(plan_id: uuid.UUID, ctx: Ctx) -> schemas.PlanOut:
    return service.get_plan(ctx, plan_id)


@router.patch(
    "/intervention-plans/<plan_id>",
    status_code=200,
    responses=responses(200, 404),
    summary="Change an intervention plan (answers the whole plan)",
    tags=["plans"],
)
def update_plan(plan_id: uuid.UUID, body: schemas.PlanUpdate, ctx: Ctx) -> schemas.PlanOut:
    return service.update_plan(ctx, plan_id, body)


@router.post(
    "/intervention-plans/<plan_id>/reviews",
    status_code=201,
    responses=responses(201, 404),
    summary="Record a review now",
    tags=["plans"],
)
def review_plan(
    plan_id: uuid.UUID, ctx: Ctx, body: Annotated[schemas.ReviewCreate | None, Body()] = None
) -> schemas.ReviewOut:
    return service.review_plan(ctx, plan_id, body or schemas.ReviewCreate())
