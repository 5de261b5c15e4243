"""The inbox: seen/read/archived states, counts, mark-all with filters, bulk actions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eduautismo.clock import FixedClock
from eduautismo.context import build_context
from eduautismo.domain import NotificationPriority, NotificationType
from eduautismo.notifications import service
from eduautismo.notifications.schemas import BulkAction, MarkAllRequest
from tests.notifications.support import add_notification, notification_rows, random_id, snapshot
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory

BASE = "/api/v1/notifications"


def _get(actor: Actor, path: str = "", **query: Any) -> Any:
    response = call_api("GET", BASE + path, claims=actor.claims, query=query or None)
    assert response.status == 200, response.body
    return response.json


def _patch(actor: Actor, notification_id: object, body: dict[str, Any]) -> ApiResponse:
    return call_api("PATCH", f"{BASE}/{notification_id}", claims=actor.claims, json_body=body)


def _bulk(actor: Actor, ids: list[object], action: str) -> ApiResponse:
    body = {"ids": [str(i) for i in ids], "action": action}
    return call_api("POST", f"{BASE}/bulk", claims=actor.claims, json_body=body)


def _state(response: ApiResponse) -> tuple[bool, bool, bool]:
    item = response.json
    return item["is_seen"], item["is_read"], item["is_archived"]


def test_a_new_notification_is_unseen_unread_and_in_the_inbox(factory: Factory) -> None:
    user = factory.user(factory.organization())
    add_notification(factory.engine, user)
    item = _get(user)["items"][0]
    assert (item["is_seen"], item["is_read"], item["is_archived"]) == (False, False, False)
    assert item["seen_at"] is None and item["archived_at"] is None
    assert _get(user, "/unread-count") == {"unread_count": 1, "unseen_count": 1}


def test_reading_implies_seen_and_unreading_keeps_it_seen(factory: Factory) -> None:
    # Given an unseen notification
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    # When it is read
    read = _patch(user, notification.id, {"is_read": True})
    # Then it is seen too, from the same instant
    assert read.status == 200 and _state(read) == (True, True, False)
    assert read.json["seen_at"] == read.json["read_at"]
    # When it is marked unread again
    unread = _patch(user, notification.id, {"is_read": False})
    # Then it is unread but still seen: the badge (unseen) stays clear, the unread count does not
    assert _state(unread) == (True, False, False) and unread.json["read_at"] is None
    assert unread.json["seen_at"] == read.json["seen_at"]
    assert _get(user, "/unread-count") == {"unread_count": 1, "unseen_count": 0}


def test_seen_leaves_it_unread_and_a_second_seen_changes_nothing(factory: Factory) -> None:
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    first = _bulk(user, [notification.id], "seen")
    seen_at = notification_rows(factory.engine, id=notification.id)[0].seen_at
    second = _bulk(user, [notification.id], "seen")
    assert first.json == {"updated_count": 1} and second.json == {"updated_count": 0}
    assert notification_rows(factory.engine, id=notification.id)[0].seen_at == seen_at is not None
    assert _get(user, "/unread-count") == {"unread_count": 1, "unseen_count": 0}


def test_archive_hides_from_the_inbox_and_every_count_and_unarchive_restores(factory: Factory) -> None:
    # Given two unread notifications
    user = factory.user(factory.organization())
    kept = add_notification(factory.engine, user, type=NotificationType.SYSTEM)
    archived = add_notification(factory.engine, user, type=NotificationType.PLAN_UPDATED)
    # When one is archived
    response = _patch(user, archived.id, {"is_archived": True})
    # Then it keeps its read state, leaves the inbox, the counts and the stats, and is listed in the archive
    assert response.status == 200 and _state(response) == (False, False, True)
    assert response.json["archived_at"] is not None
    inbox = _get(user)
    assert [item["id"] for item in inbox["items"]] == [str(kept.id)]
    assert inbox["total"] == 1 and inbox["unread_count"] == 1
    assert _get(user, "/unread-count") == {"unread_count": 1, "unseen_count": 1}
    stats = _get(user, "/stats")
    assert (stats["total"], stats["unread"], stats["by_type"]["system"]) == (1, 1, 1)
    assert set(stats["by_type"].values()) == {0, 1} and len(stats["by_type"]) == len(NotificationType)
    archive = _get(user, archived="true")
    assert [item["id"] for item in archive["items"]] == [str(archived.id)] and archive["total"] == 1
    # When it is unarchived
    restored = _patch(user, archived.id, {"is_archived": False})
    # Then it is back where it was
    assert _state(restored) == (False, False, False) and restored.json["archived_at"] is None
    assert _get(user)["total"] == 2 and _get(user, archived="true")["total"] == 0


def test_patch_changes_read_and_archived_together(factory: Factory) -> None:
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    response = _patch(user, notification.id, {"is_read": True, "is_archived": True})
    assert response.status == 200 and _state(response) == (True, True, True)


def test_unseen_only_and_unread_only_filters(factory: Factory) -> None:
    # Given one unseen, one seen but unread and one read notification
    user = factory.user(factory.organization())
    unseen = add_notification(factory.engine, user)
    seen = add_notification(factory.engine, user)
    read = add_notification(factory.engine, user, is_read=True)
    _bulk(user, [seen.id], "seen")
    # When filtering
    only_unseen = _get(user, unseen_only="true")
    only_unread = _get(user, unread_only="true")
    # Then each lists its own rows
    assert [item["id"] for item in only_unseen["items"]] == [str(unseen.id)]
    assert {item["id"] for item in only_unread["items"]} == {str(unseen.id), str(seen.id)}
    assert str(read.id) in {item["id"] for item in _get(user)["items"]}


def test_mark_all_seen_clears_the_badge_but_not_the_unread_count(factory: Factory) -> None:
    user = factory.user(factory.organization())
    for _ in range(3):
        add_notification(factory.engine, user)
    add_notification(factory.engine, user, is_read=True)
    response = call_api("POST", f"{BASE}/mark-all-seen", claims=user.claims)
    assert response.status == 200
    assert response.json == {"updated_count": 3, "message": "3 notifications marked as seen"}
    assert _get(user, "/unread-count") == {"unread_count": 3, "unseen_count": 0}


def test_mark_all_read_honours_type_and_priority_and_skips_the_archive(factory: Factory) -> None:
    # Given unread notifications of several types and priorities, one matching row archived
    user = factory.user(factory.organization())
    urgent_overdue = add_notification(
        factory.engine, user, type=NotificationType.REVIEW_OVERDUE, priority=NotificationPriority.URGENT
    )
    high_overdue = add_notification(
        factory.engine, user, type=NotificationType.REVIEW_OVERDUE, priority=NotificationPriority.HIGH
    )
    urgent_other = add_notification(
        factory.engine, user, type=NotificationType.HIGH_PRIORITY, priority=NotificationPriority.URGENT
    )
    archived = add_notification(
        factory.engine, user, type=NotificationType.REVIEW_OVERDUE, priority=NotificationPriority.URGENT
    )
    _patch(user, archived.id, {"is_archived": True})
    # When mark-all-read is asked for urgent overdue reviews only
    response = call_api(
        "POST",
        f"{BASE}/mark-all-read",
        claims=user.claims,
        query={"type": "review_overdue", "priority": "urgent"},
    )
    # Then only the matching inbox row is read
    assert response.status == 200 and response.json["updated_count"] == 1
    read = {row.id for row in notification_rows(factory.engine, user_id=user.user_id, is_read=True)}
    assert read == {urgent_overdue.id}
    assert {high_overdue.id, urgent_other.id, archived.id}.isdisjoint(read)
    # And the type filter alone takes every priority of that type in the inbox
    by_type = call_api("POST", f"{BASE}/mark-all-read", claims=user.claims, query={"type": "review_overdue"})
    assert by_type.json["updated_count"] == 1


def test_filtered_mark_all_leaves_matching_rows_created_after_the_call_began(factory: Factory) -> None:
    # Given matching rows stamped before and after the call's start, and a non-matching one before
    user = factory.user(factory.organization())
    started = datetime.now(UTC)
    overdue = {"type": NotificationType.REVIEW_OVERDUE, "priority": NotificationPriority.HIGH}
    before = add_notification(factory.engine, user, created_at=started - timedelta(seconds=1), **overdue)
    after = add_notification(factory.engine, user, created_at=started + timedelta(milliseconds=5), **overdue)
    other = add_notification(factory.engine, user, created_at=started - timedelta(seconds=1))
    # When the filtered mark-all runs as of the call's start
    ctx = build_context(user.principal, clock=FixedClock(started))
    result = service.mark_all(ctx, MarkAllRequest(BulkAction.READ, NotificationType.REVIEW_OVERDUE))
    # Then only the earlier matching row was read
    assert result.updated_count == 1
    assert notification_rows(factory.engine, id=before.id)[0].is_read is True
    assert notification_rows(factory.engine, id=after.id)[0].is_read is False
    assert notification_rows(factory.engine, id=other.id)[0].is_read is False


@pytest.mark.parametrize(
    ("action", "counted", "expected"),
    [
        ("read", 2, {"is_read": True}),
        ("archive", 2, {"is_archived": True}),
        ("delete", 2, None),
    ],
)
def test_bulk_acts_on_the_callers_ids_only(
    factory: Factory, action: str, counted: int, expected: dict[str, bool] | None
) -> None:
    # Given two of the caller's notifications, a colleague's, an outsider's and an unknown id
    org = factory.organization()
    user, colleague = factory.user(org), factory.user(org)
    outsider = factory.user(factory.organization(name="Outra Escola"))
    mine = [add_notification(factory.engine, user) for _ in range(2)]
    theirs = [add_notification(factory.engine, colleague), add_notification(factory.engine, outsider)]
    foreign_before = [row for row in snapshot(factory.engine) if row[0] in {t.id for t in theirs}]
    # When the caller sends them all in one bulk call (one id twice)
    ids = [mine[0].id, mine[1].id, mine[0].id, theirs[0].id, theirs[1].id, random_id()]
    response = _bulk(user, ids, action)
    # Then only the caller's rows changed and only they are counted
    assert response.status == 200 and response.json == {"updated_count": counted}
    after = [row for row in snapshot(factory.engine) if row[0] in {t.id for t in theirs}]
    assert after == foreign_before
    remaining = {row.id: row for row in notification_rows(factory.engine, user_id=user.user_id)}
    if expected is None:
        assert remaining == {}
    else:
        for notification in mine:
            row = remaining[notification.id]
            assert {"is_read": row.is_read, "is_archived": row.is_archived} == {
                **{"is_read": False, "is_archived": False},
                **expected,
            }


def test_bulk_unread_and_unarchive_reverse_and_count_only_changes(factory: Factory) -> None:
    user = factory.user(factory.organization())
    rows = [add_notification(factory.engine, user) for _ in range(3)]
    ids = [row.id for row in rows]
    assert _bulk(user, ids[:2], "read").json == {"updated_count": 2}
    assert _bulk(user, ids, "unread").json == {"updated_count": 2}
    assert _bulk(user, ids[:1], "archive").json == {"updated_count": 1}
    assert _bulk(user, ids, "unarchive").json == {"updated_count": 1}
    assert _get(user, "/unread-count") == {"unread_count": 3, "unseen_count": 1}


def test_expired_rows_are_outside_every_action(factory: Factory) -> None:
    user = factory.user(factory.organization())
    expired = add_notification(factory.engine, user, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    before = snapshot(factory.engine)
    assert _bulk(user, [expired.id], "read").json == {"updated_count": 0}
    assert _bulk(user, [expired.id], "delete").json == {"updated_count": 0}
    assert _patch(user, expired.id, {"is_archived": True}).status == 404
    assert call_api("POST", f"{BASE}/mark-all-seen", claims=user.claims).json["updated_count"] == 0
    assert snapshot(factory.engine) == before


@pytest.mark.parametrize(
    ("path", "body", "query"),
    [
        ("/bulk", {"ids": ["not-a-uuid"], "action": "read"}, None),
        ("/bulk", {"ids": ["{id}"], "action": "explode"}, None),
        ("/bulk", {"ids": [], "action": "read"}, None),
        ("/bulk", {"ids": ["{id}"] * 201, "action": "read"}, None),
        ("/bulk", {"ids": ["{id}"], "action": "read", "user_id": "x"}, None),
        ("/bulk", {"action": "read"}, None),
        ("/bulk", {"ids": "{id}", "action": "read"}, None),
        ("/mark-all-read", None, {"type": "birthday"}),
        ("/mark-all-read", None, {"priority": "critical"}),
        ("/mark-all-seen", None, {"type": "birthday"}),
    ],
)
def test_bad_bulk_and_mark_all_input_is_422_and_changes_nothing(
    factory: Factory, path: str, body: dict[str, Any] | None, query: dict[str, str] | None
) -> None:
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    if body is not None:
        body = json.loads(json.dumps(body).replace("{id}", str(notification.id)))
    before = snapshot(factory.engine)
    response = call_api("POST", BASE + path, claims=user.claims, json_body=body, query=query)
    assert response.status == 422, response.body
    assert response.json["error"]["code"] == "validation_error"
    assert snapshot(factory.engine) == before


@pytest.mark.parametrize(
    "body", [{"is_archived": None}, {"is_archived": "yes"}, {"is_archived": True, "is_seen": True}]
)
def test_bad_patch_of_archive_is_422(factory: Factory, body: dict[str, Any]) -> None:
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    before = snapshot(factory.engine)
    response = _patch(user, notification.id, body)
    assert response.status == 422 and response.json["error"]["code"] == "validation_error"
    assert snapshot(factory.engine) == before


def test_every_notification_answer_is_no_store(factory: Factory) -> None:
    user = factory.user(factory.organization())
    notification = add_notification(factory.engine, user)
    answers = [
        call_api("GET", BASE, claims=user.claims),
        call_api("GET", f"{BASE}/unread-count", claims=user.claims),
        call_api("GET", f"{BASE}/stats", claims=user.claims),
        call_api("POST", f"{BASE}/mark-all-seen", claims=user.claims),
        call_api("POST", f"{BASE}/mark-all-read", claims=user.claims),
        _bulk(user, [notification.id], "unread"),
        _patch(user, notification.id, {"is_read": True}),
        call_api("DELETE", f"{BASE}/{notification.id}", claims=user.claims),
    ]
    assert [answer.header("Cache-Control") for answer in answers] == ["no-store"] * len(answers)
