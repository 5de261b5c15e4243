"""Cognito is the source of roles and of whether a user may act: its user-pool administration calls, as
CloudTrail records them and EventBridge delivers them ("AWS API Call via CloudTrail"), update
``users.role`` and ``users.status`` when they happen, not only on the user's next request.

- ``AdminAddUserToGroup`` / ``AdminRemoveUserFromGroup`` of the ``coordinator`` group: the role becomes
  coordinator / professional (a user is a coordinator exactly while in that group; the ``professional``
  group changes nothing stored).
- ``AdminDisableUser`` / ``AdminDeleteUser``: ``disabled``; ``AdminEnableUser``: ``active``.

Each change carries the event's time: a change older than the last one applied (EventBridge may deliver
late or twice) changes nothing. The user is identified by their ``sub``: Cognito hides user names in
CloudTrail, so it is read from ``additionalEventData.sub``, or from ``requestParameters.username`` when
that is the sub itself. An event naming no known user is logged and counted, never retried.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from eduautismo.context import Context
from eduautismo.domain import Role, UserStatus
from eduautismo.identity import repository
from eduautismo.observability import logger, metrics

EVENT_SOURCE = "aws.cognito-idp"
DETAIL_TYPE = "AWS API Call via CloudTrail"
ADD_TO_GROUP = "AdminAddUserToGroup"
REMOVE_FROM_GROUP = "AdminRemoveUserFromGroup"
DISABLE = "AdminDisableUser"
ENABLE = "AdminEnableUser"
DELETE = "AdminDeleteUser"
EVENT_NAMES = (ADD_TO_GROUP, REMOVE_FROM_GROUP, DISABLE, ENABLE, DELETE)
STATUS_AFTER = {DISABLE: UserStatus.DISABLED, DELETE: UserStatus.DISABLED, ENABLE: UserStatus.ACTIVE}


@dataclass(frozen=True)
class IdentityChange:
    user_id: uuid.UUID
    at: datetime
    role: Role | None = None
    status: UserStatus | None = None


def _sub(detail: Mapping[str, Any]) -> uuid.UUID | None:
    extra = detail.get("additionalEventData") or {}
    parameters = detail.get("requestParameters") or {}
    for candidate in (extra.get("sub"), parameters.get("username")):
        try:
            return uuid.UUID(str(candidate))
        except ValueError:
            continue
    return None


def change_of(event: Mapping[str, Any]) -> IdentityChange | None:
    """What the event changes, or None (another call, a failed call, or no identifiable user)."""
    detail = event.get("detail") or {}
    name = detail.get("eventName")
    if name not in EVENT_NAMES or detail.get("errorCode"):
        return None
    user_id = _sub(detail)
    if user_id is None:
        return None
    at = datetime.fromisoformat(str(detail.get("eventTime") or event["time"]).replace("Z", "+00:00"))
    if name in STATUS_AFTER:
        return IdentityChange(user_id, at, status=STATUS_AFTER[name])
    if (detail.get("requestParameters") or {}).get("groupName") != Role.COORDINATOR.value:
        return None
    return IdentityChange(user_id, at, role=Role.COORDINATOR if name == ADD_TO_GROUP else Role.PROFESSIONAL)


def apply_change(ctx: Context, change: IdentityChange) -> bool:
    """Apply the change in one transaction; whether it changed a stored user."""
    with ctx.uow() as session:
        if change.role is not None:
            return repository.apply_role(session, change.user_id, change.role, change.at)
        if change.status is not None:
            return repository.apply_status(session, change.user_id, change.status, change.at)
    return False


def handle_identity_event(ctx: Context, event: Mapping[str, Any]) -> dict[str, Any]:
    """The function's entry: ``{"applied": bool}`` (logged with ids only)."""
    change = change_of(event)
    applied = change is not None and apply_change(ctx, change)
    outcome = "applied" if applied else "ignored"
    logger.info(
        f"identity event {outcome}",
        extra={
            "event_name": (event.get("detail") or {}).get("eventName"),
            "user_id": str(change.user_id) if change else None,
        },
    )
    metrics.add_metric(
        name="IdentityEventApplied" if applied else "IdentityEventIgnored", unit=MetricUnit.Count, value=1
    )
    return {"applied": applied}
