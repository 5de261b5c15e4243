"""The notifications API through the real handler (template.yaml route, HTTP API v2 event)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock
from eduautismo.context import build_context
from eduautismo.domain import NotificationPriority, NotificationType, Role
from eduautismo.notifications import service
from eduautismo.notifications.schemas import BulkAction, MarkAllRequest
from eduautismo.notifications.service import NotificationService
from tests.notifications.support import add_notification, notification_rows, random_id, snapshot
from tests.support.api import call_api
from tests.support.concurrency import run_at_once
from tests.support.factories import Actor, Factory, notification_for

BASE = "/api/v1/notifications"


def _get(actor: Actor, path: str = "", **query: Any) -> Any:
    response = call_api("GET", BASE + path, claims=actor.claims, query=query or None)
    assert response.status == 200, response.body
    return response.json


def test_list_is_newest_first_paged_with_counts_and_the_seed_shape(factory: Factory) -> None:
    # Given five notifications of one user, the older two already read
    org = factory.organization()
    user = factory.user(org)
    start = datetime.now(UTC) - timedelta(hours=1)
    created = [
        add_notification(factory.engine, user, created_at=start + timedelta(minutes=i), is_read=i < 2)
        for i in range(5)
    ]
    # When the first page of two is read
    page = _get(user, skip=0, limit=2)
    # Then it holds the two newest, with totals over everything and the seed's fields
    assert [item["id"] for item in page["items"]] == [str(created[4].id), str(created[3].id)]
    assert (page["total"], page["unread_count"], page["has_more"]) == (5, 3, True)
    assert set(page["items"][0]) >= {
        "id", "type", "priority", "title", "message", "intervention_plan_id",
        "is_read", "read_at", "created_at", "action_url",
    }  # fmt: skip
    last = _get(user, skip=4, limit=2)
    assert [item["id"] for item in last["items"]] == [str(created[0].id)] and last["has_more"] is False


def test_filters_unread_only_priority_and_type(factory: Factory) -> None:
    # Given notifications of different types, priorities and read states
    user = factory.user(factory.organization())
    urgent = add_notification(
        factory.engine, user, type=NotificationType.HIGH_PRIORITY, priority=NotificationPriority.URGENT
    )
    add_notification(factory.engine, user, type=NotificationType.SYSTEM, priority=NotificationPriority.LOW)
    add_notification(
        factory.engine,
        user,
        type=NotificationType.HIGH_PRIORITY,
        priority=NotificationPriority.URGENT,
        is_read=True,
    )
    # When filtering
    by_priority = _get(user, priority="urgent", unread_only="true")
    by_type = _get(user, type="system")
    # Then only the matching rows are listed, while unread_count stays the caller's whole unread badge
    assert [item["id"] for item in by_priority["items"]] == [str(urgent.id)]
    assert by_priority["total"] == 1 and by_priority["unread_count"] == 2
    assert [item["type"] for item in by_type["items"]] == ["system"]


def test_expired_notifications_never_show(factory: Factory) -> None:
    # Given one live and one expired unread notification
    user = factory.user(factory.organization())
    live = add_notification(factory.engine, user, expires_at=datetime.now(UTC) + timedelta(days=1))
    expired = add_notification(factory.engine, user, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    # When the inbox, the badge and the stats are read
    page = _get(user)
    # Then the expired one is in none of them and cannot be changed
    assert [item["id"] for item in page["items"]] == [str(live.id)]
    assert _get(user, "/unread-count") == {"unread_count": 1, "unseen_count": 1}
    assert _get(user, "/stats")["total"] == 1
    response = call_api("PATCH", f"{BASE}/{expired.id}", claims=user.claims, json_body={"is_read": True})
    assert response.status == 404


def test_unread_count_and_stats_agree_with_the_list(factory: Factory) -> None:
    # Given a mix of types, priorities and read states
    user = factory.user(factory.organization())
    mix = [
        (NotificationType.REVIEW_OVERDUE, NotificationPriority.URGENT, False),
        (NotificationType.REVIEW_OVERDUE, NotificationPriority.HIGH, True),
        (NotificationType.REVIEW_DUE_SOON, NotificationPriority.MEDIUM, False),
        (NotificationType.PLAN_UPDATED, NotificationPriority.LOW, False),
        (NotificationType.HIGH_PRIORITY, NotificationPriority.URGENT, True),
    ]
    for notification_type, priority, is_read in mix:
        add_notification(factory.engine, user, type=notification_type, priority=priority, is_read=is_read)
    # When the list, the badge and the stats are read
    items = _get(user, limit=200)["items"]
    stats = _get(user, "/stats")
    unread = _get(user, "/unread-count")["unread_count"]
    # Then they count the same rows
    assert stats["total"] == len(items) == 5
    assert stats["unread"] == unread == sum(not item["is_read"] for item in items) == 3
    # (every type is counted, zeros included)
    assert stats["by_type"] == {
        "review_overdue": 2,
        "review_due_soon": 1,
        "plan_updated": 1,
        "high_priority": 1,
        "plan_created": 0,
        "plan_reviewed": 0,
        "system": 0,
    }
    assert stats["by_priority"] == {"urgent": 2, "high": 1, "medium": 1, "low": 1}
    assert stats["urgent_count"] == sum(item["priority"] == "urgent" for item in items) == 2


def test_patch_sets_and_clears_read_at(factory: Factory) -> None:
    # Given an unread notification
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    # When it is marked read, then unread
    read = call_api("PATCH", f"{BASE}/{notification.id}", claims=user.claims, json_body={"is_read": True})
    unread = call_api("PATCH", f"{BASE}/{notification.id}", claims=user.claims, json_body={"is_read": False})
    # Then read_at is set, then cleared, and the whole object comes back
    assert read.status == 200 and read.json["is_read"] is True and read.json["read_at"] is not None
    assert read.json["id"] == str(notification.id) and read.json["title"] == "Aviso do sistema"
    assert unread.status == 200 and unread.json["is_read"] is False and unread.json["read_at"] is None


def test_delete_dismisses_once(factory: Factory) -> None:
    # Given a notification
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    # When it is dismissed twice
    first = call_api("DELETE", f"{BASE}/{notification.id}", claims=user.claims)
    second = call_api("DELETE", f"{BASE}/{notification.id}", claims=user.claims)
    # Then it is gone after the first, and the second finds nothing
    assert first.status == 204 and second.status == 404
    assert notification_rows(factory.engine, user_id=user.user_id) == []


def test_another_users_notifications_are_invisible_and_untouchable(factory: Factory) -> None:
    # Given the owner's notification, a colleague in the same organization and a user of another one
    org = factory.organization()
    owner = factory.user(org)
    colleague = factory.user(org, Role.COORDINATOR)
    outsider = factory.user(factory.organization(name="Outra Escola"))
    target = add_notification(factory.engine, owner)
    before = snapshot(factory.engine)
    for intruder in (colleague, outsider):
        # When the intruder lists, counts, reads, changes, dismisses or marks all read
        listing = _get(intruder)
        counts = (_get(intruder, "/unread-count"), _get(intruder, "/stats"))
        patch = call_api("PATCH", f"{BASE}/{target.id}", claims=intruder.claims, json_body={"is_read": True})
        dismiss = call_api("DELETE", f"{BASE}/{target.id}", claims=intruder.claims)
        mark_all = call_api("POST", f"{BASE}/mark-all-read", claims=intruder.claims)
        # Then nothing of the owner's shows, the id answers 404 and the row is untouched
        assert listing["items"] == [] and listing["total"] == 0 and listing["unread_count"] == 0
        assert counts[0] == {"unread_count": 0, "unseen_count": 0} and counts[1]["total"] == 0
        assert patch.status == 404 and dismiss.status == 404
        assert patch.json["error"]["code"] == "not_found"
        assert mark_all.json["updated_count"] == 0
    assert snapshot(factory.engine) == before


def test_mark_all_read_marks_only_the_callers_unread_rows(factory: Factory) -> None:
    # Given three unread and one read notification of the caller and one unread of a colleague
    org = factory.organization()
    user, colleague = factory.user(org), factory.user(org)
    for _ in range(3):
        add_notification(factory.engine, user)
    add_notification(factory.engine, user, is_read=True)
    colleague_row = add_notification(factory.engine, colleague)
    # When the caller marks all read
    response = call_api("POST", f"{BASE}/mark-all-read", claims=user.claims)
    # Then the three are read and the colleague's stays unread
    assert response.status == 200
    assert response.json == {"updated_count": 3, "message": "3 notifications marked as read"}
    assert all(row.is_read and row.read_at for row in notification_rows(factory.engine, user_id=user.user_id))
    assert notification_rows(factory.engine, id=colleague_row.id)[0].is_read is False


def test_mark_all_read_leaves_a_notification_that_arrives_during_the_call(factory: Factory) -> None:
    # Given an existing unread notification, and another being written by a transaction not yet committed
    user = factory.user(factory.organization())
    existing = add_notification(factory.engine, user)
    arriving_session = Session(factory.engine, expire_on_commit=False)
    request = notification_for(
        user, priority=NotificationPriority.LOW, title="Chegando", message="Durante a chamada"
    )
    arriving = NotificationService(arriving_session, FixedClock(datetime.now(UTC))).create_notification(
        request
    )
    responses: list[Any] = []
    call = threading.Thread(
        target=lambda: responses.append(call_api("POST", f"{BASE}/mark-all-read", claims=user.claims))
    )
    try:
        # When mark-all-read runs while that write is in flight (it waits for the inbox version the
        # write holds), and the write commits afterwards
        call.start()
        call.join(timeout=0.5)
        arriving_session.commit()
        call.join()
    finally:
        arriving_session.close()
    # Then only the existing one was marked; the arrival stays unread
    assert responses[0].json["updated_count"] == 1
    assert notification_rows(factory.engine, id=existing.id)[0].is_read is True
    assert notification_rows(factory.engine, id=arriving.id)[0].is_read is False


def test_mark_all_read_skips_rows_created_after_the_call_began(factory: Factory) -> None:
    # Given a notification stamped after the call's start (committed while the call was running)
    user = factory.user(factory.organization())
    call_started_at = datetime.now(UTC)
    before = add_notification(factory.engine, user, created_at=call_started_at - timedelta(seconds=1))
    after = add_notification(factory.engine, user, created_at=call_started_at + timedelta(milliseconds=5))
    # When the service marks all read as of the call's start
    ctx = build_context(user.principal, clock=FixedClock(call_started_at))
    result = service.mark_all(ctx, MarkAllRequest(BulkAction.READ))
    # Then the later row stays unread
    assert result.updated_count == 1
    assert notification_rows(factory.engine, id=before.id)[0].is_read is True
    assert notification_rows(factory.engine, id=after.id)[0].is_read is False


def test_concurrent_mark_all_read_calls_count_each_row_once(factory: Factory) -> None:
    # Given twenty unread notifications
    user = factory.user(factory.organization())
    for _ in range(20):
        add_notification(factory.engine, user)

    def mark() -> int:
        # Two Lambda containers: each its own connection and transaction (a resolver serves one event).
        return service.mark_all(build_context(user.principal), MarkAllRequest(BulkAction.READ)).updated_count

    # When two calls race
    counts = run_at_once([mark, mark])
    # Then every row was marked exactly once between them
    assert len(counts) == 2 and sum(counts) == 20
    assert _get(user, "/unread-count") == {"unread_count": 0, "unseen_count": 0}


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", "", {"type": "birthday"}, None),
        ("GET", "", {"priority": "critical"}, None),
        ("GET", "", {"limit": "0"}, None),
        ("GET", "", {"limit": "201"}, None),
        ("GET", "", {"skip": "-1"}, None),
        ("GET", "", {"unread_only": "maybe"}, None),
        ("PATCH", "/not-a-uuid", None, {"is_read": True}),
        ("DELETE", "/not-a-uuid", None, None),
        ("PATCH", "/{id}", None, {"is_read": "yes"}),
        ("PATCH", "/{id}", None, {"is_read": 1}),
        ("PATCH", "/{id}", None, {"is_read": None}),
        ("PATCH", "/{id}", None, {}),
        ("PATCH", "/{id}", None, {"is_read": True, "user_id": "someone"}),
    ],
)
def test_bad_input_is_422_and_changes_nothing(
    factory: Factory, method: str, path: str, query: dict[str, str] | None, body: Any
) -> None:
    # Given a user with one unread notification
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    before = snapshot(factory.engine)
    # When the request carries bad input
    response = call_api(
        method,
        BASE + path.replace("{id}", str(notification.id)),
        claims=user.claims,
        query=query,
        json_body=body,
    )
    # Then it is a validation error in the envelope and no row changed
    assert response.status == 422, response.body
    assert response.json["error"]["code"] == "validation_error"
    assert snapshot(factory.engine) == before


def test_malformed_json_body_is_rejected_without_change(factory: Factory) -> None:
    # Given a user's unread notification
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    before = snapshot(factory.engine)
    # When the body is not JSON
    response = call_api("PATCH", f"{BASE}/{notification.id}", claims=user.claims, raw_body="{is_read: true")
    # Then it is a validation error in the envelope and nothing changed
    assert response.status == 422 and response.json["error"]["code"] == "validation_error"
    assert snapshot(factory.engine) == before


def test_unknown_id_is_404(factory: Factory) -> None:
    user = factory.user(factory.organization())
    response = call_api("PATCH", f"{BASE}/{random_id()}", claims=user.claims, json_body={"is_read": True})
    assert response.status == 404


def test_no_token_is_401(db: Engine) -> None:
    assert call_api("GET", BASE).status == 401
