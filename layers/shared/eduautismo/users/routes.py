"""HTTP routes of the users feature (served by the plans function): translate requests into service
calls, nothing more."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import DEFAULT_PAGE_LIMIT, PageLimit, PageSkip, responses
from eduautismo.api.dependencies import Ctx
from eduautismo.domain import Role
from eduautismo.users import service
from eduautismo.users.schemas import Preferences, PreferencesUpdate, UserPage, UserQuery

router = APIGatewayHttpRouter()


@router.get(
    "/users",
    status_code=200,
    responses=responses(200),
    summary="Users of the caller's organization (a professional: only themselves)",
    tags=["users"],
)
def list_users(
    ctx: Ctx,
    role: Annotated[Role | None, Query(description="Only users of this role")] = None,
    skip: PageSkip = 0,
    limit: PageLimit = DEFAULT_PAGE_LIMIT,
) -> UserPage:
    return service.list_users(ctx, UserQuery(role, skip, limit))


@router.get(
    "/users/me/preferences",
    status_code=200,
    responses=responses(200),
    summary="The caller's reminder preferences (email digest, muted notification types)",
    tags=["users"],
)
def get_preferences(ctx: Ctx) -> Preferences:
    return service.get_preferences(ctx)


@router.patch(
    "/users/me/preferences",
    status_code=200,
    responses=responses(200),
    summary="Change the caller's reminder preferences (answers all of them)",
    tags=["users"],
)
def update_preferences(ctx: Ctx, body: PreferencesUpdate) -> Preferences:
    return service.update_preferences(ctx, body)
