"""HTTP routes of the notifications function: translate requests into service calls, nothing more. Every
route acts on the caller's own rows; every answer is ``Cache-Control: no-store``."""

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import (
    DEFAULT_PAGE_LIMIT,
    ETAG,
    PageLimit,
    PageQuery,
    PageSkip,
    empty_response,
    responses,
)
from eduautismo.api.dependencies import Ctx
from eduautismo.domain import NotificationPriority, NotificationType
from eduautismo.notifications import schemas, service

router = APIGatewayHttpRouter()
TAGS = ["notifications"]

TypeFilter = Annotated[NotificationType | None, Query(description="Only this type")]
PriorityFilter = Annotated[NotificationPriority | None, Query(description="Only this priority")]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="if-none-match",
        max_length=1024,
        description="The ETag of the copy the caller holds: 304 without a body while it is current",
    ),
]
NOT_MODIFIED = {304: empty_response("Not Modified: the ETag sent in If-None-Match is still current", ETAG)}


class NotModified(Exception):
    """The caller's copy is current: answered 304 with no body (raised so no body is validated)."""

    def __init__(self, etag: str) -> None:
        super().__init__("not modified")
        self.etag = etag


@router.exception_handler(NotModified)
def _not_modified(exc: NotModified) -> Response[str]:
    return Response(304, None, "", headers={"ETag": exc.etag})


def _known_etags(if_none_match: str | None) -> frozenset[str]:
    """The entity tags of an If-None-Match header; weak comparison (RFC 9110 §13.1.2), so W/ is dropped."""
    if not if_none_match:
        return frozenset()
    return frozenset(part.strip().removeprefix("W/") for part in if_none_match.split(",") if part.strip())


def _tagged(result: service.Conditional[Any]) -> Response[Any]:
    if result.body is None and result.etag is not None:
        raise NotModified(result.etag)
    headers = {"ETag": result.etag} if result.etag else None
    return Response(200, content_types.APPLICATION_JSON, result.body, headers=headers)


@router.get(
    "/notifications",
    responses=responses(200, extra=NOT_MODIFIED, headers=ETAG),
    summary="The caller's notifications, newest first (the first page is tagged: ETag / If-None-Match)",
    tags=TAGS,
)
def list_notifications(
    ctx: Ctx,
    unread_only: Annotated[bool, Query(description="Only unread")] = False,
    unseen_only: Annotated[bool, Query(description="Only never seen")] = False,
    archived: Annotated[bool, Query(description="The archive instead of the inbox")] = False,
    priority: PriorityFilter = None,
    type: TypeFilter = None,
    skip: PageSkip = 0,
    limit: PageLimit = DEFAULT_PAGE_LIMIT,
    if_none_match: IfNoneMatch = None,
) -> Response[schemas.NotificationPage]:
    filters = schemas.InboxFilters(unread_only, unseen_only, archived, priority, type)
    query = schemas.InboxQuery(filters, PageQuery(skip, limit), _known_etags(if_none_match))
    return _tagged(service.list_page(ctx, query))


@router.get(
    "/notifications/unread-count",
    responses=responses(200, extra=NOT_MODIFIED, headers=ETAG),
    summary="Unread and unseen counts (ETag / If-None-Match: poll it for free)",
    tags=TAGS,
)
def unread_count(ctx: Ctx, if_none_match: IfNoneMatch = None) -> Response[schemas.UnreadCount]:
    return _tagged(service.unread_count(ctx, _known_etags(if_none_match)))


@router.get(
    "/notifications/stats",
    responses=responses(200),
    summary="Counts by type and priority (archived excluded)",
    tags=TAGS,
)
def notification_stats(ctx: Ctx) -> schemas.NotificationStats:
    return service.stats(ctx)


def _register_mark_all(action: schemas.BulkAction) -> None:
    """``POST /notifications/mark-all-read`` and ``mark-all-seen``: one shape, one action each."""

    @router.post(
        f"/notifications/mark-all-{action.value}",
        operation_id=f"mark_all_{action.value}",
        responses=responses(200),
        summary=f"Mark {action.value} every inbox notification (matching type/priority) that existed when "
        "the call began",
        tags=TAGS,
    )
    def mark_all(ctx: Ctx, type: TypeFilter = None, priority: PriorityFilter = None) -> schemas.MarkAllResult:
        return service.mark_all(ctx, schemas.MarkAllRequest(action, type, priority))


for _action in (schemas.BulkAction.READ, schemas.BulkAction.SEEN):
    _register_mark_all(_action)


@router.post(
    "/notifications/bulk",
    responses=responses(200),
    summary="One action on up to 200 of the caller's notifications; other ids are ignored",
    tags=TAGS,
)
def bulk_action(body: schemas.BulkRequest, ctx: Ctx) -> schemas.BulkResult:
    return service.bulk(ctx, body)


@router.patch(
    "/notifications/<notification_id>",
    responses=responses(200, 404),
    summary="Mark one notification read/unread and/or archived/unarchived",
    tags=TAGS,
)
def update_notification(
    notification_id: uuid.UUID, body: schemas.NotificationUpdate, ctx: Ctx
) -> schemas.NotificationOut:
    return service.update_notification(ctx, notification_id, body)


@router.delete(
    "/notifications/<notification_id>",
    status_code=204,
    responses=responses(204, 404),
    summary="Delete one notification",
    tags=TAGS,
)
def delete_notification(notification_id: uuid.UUID, ctx: Ctx) -> Response[None]:
    service.delete_notification(ctx, notification_id)
    return Response(204, content_types.APPLICATION_JSON, None)
