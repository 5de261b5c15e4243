"""Polling that costs nothing: the badge and the first page answer If-None-Match with 304 from the inbox
version alone, and the tag changes with every change that alters the answer, expiry included."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock, SystemClock
from eduautismo.db.models import InterventionPlan
from eduautismo.domain import Role
from eduautismo.identity.principal import principal_from_claims
from eduautismo.jobs.service import cleanup
from eduautismo.notifications import plan_events
from tests.notifications.support import add_notification
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory
from tests.support.jobs import job_context, run_daily_job_at

BASE = "/api/v1/notifications"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _call(actor: Actor, path: str = "/unread-count", etag: str | None = None, **query: Any) -> ApiResponse:
    headers = {"If-None-Match": etag} if etag else None
    return call_api("GET", BASE + path, claims=actor.claims, query=query or None, headers=headers)


def _etag(actor: Actor, path: str = "/unread-count", **query: Any) -> str:
    response = _call(actor, path, **query)
    assert response.status == 200, response.body
    etag = response.header("ETag")
    assert etag is not None and etag.startswith('"')
    return etag


def _still_current(actor: Actor, etag: str, path: str = "/unread-count", **query: Any) -> bool:
    response = _call(actor, path, etag, **query)
    assert response.status in (200, 304), response.body
    return response.status == 304


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Every SQL statement any engine sends inside the block (the handler's engine may be rebuilt)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def test_a_current_tag_is_answered_304_without_a_body_and_without_reading_notifications(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given a user with notifications whose badge and first page were fetched once
    set_now(NOW)
    user = factory.user(factory.organization())
    for minutes in range(3):
        add_notification(factory.engine, user, created_at=NOW - timedelta(minutes=minutes + 1))
    badge_tag, page_tag = _etag(user), _etag(user, "")
    for path, etag in (("/unread-count", badge_tag), ("", page_tag)):
        # When the same request comes back with the tag
        with _statements() as statements:
            response = _call(user, path, etag)
        # Then it is a 304 with no body, the tag and no-store, and only the inbox version was read
        assert response.status == 304 and response.body == b""
        assert response.header("ETag") == etag and response.header("Cache-Control") == "no-store"
        # Besides the caller's own users row (status and role, read on every request), only the inbox row
        inbox_reads = [sql for sql in statements if "FROM users" not in sql]
        assert inbox_reads and all("notification_inboxes" in sql for sql in inbox_reads), statements
        assert not any("FROM notifications" in sql for sql in statements)


def test_if_none_match_lists_weak_tags_and_star(factory: Factory) -> None:
    user = factory.user(factory.organization())
    add_notification(factory.engine, user)
    etag = _etag(user)
    assert _call(user, etag=f'"other", W/{etag}').status == 304
    assert _call(user, etag="*").status == 304
    assert _call(user, etag='"something-else"').status == 200


def test_another_users_tag_never_revalidates(factory: Factory) -> None:
    # Given two users whose inboxes look alike (nothing in either)
    org = factory.organization()
    first, second = factory.user(org), factory.user(org)
    # When one sends the other's tag
    # Then it is a full answer: a copy cached for one user is never confirmed for another
    assert not _still_current(second, _etag(first))


def test_pages_filters_and_sizes_have_their_own_tags_and_later_pages_none(factory: Factory) -> None:
    user = factory.user(factory.organization())
    for _ in range(3):
        add_notification(factory.engine, user)
    tags = {
        _etag(user, ""),
        _etag(user, "", limit=2),
        _etag(user, "", unread_only="true"),
        _etag(user, "", archived="true"),
        _etag(user, "", type="system"),
        _etag(user),
    }
    assert len(tags) == 6
    later = _call(user, "", skip=1)
    assert later.status == 200 and later.header("ETag") is None
    assert _call(user, "", _etag(user, ""), skip=1).status == 200


Change = tuple[Callable[[], Any], Callable[[], Any]]


def _changes(factory: Factory, user: Actor, coordinator: Actor) -> dict[str, Change]:
    """Every kind of change to the user's inbox as (set-up, change), each change made the way production
    makes it; the set-up runs before the tags are taken."""
    engine = factory.engine
    plans: list[InterventionPlan] = []

    def nothing() -> None:
        return None

    def first_row_id() -> str:
        return str(_call(user, "", limit=1).json["items"][0]["id"])

    def api(method: str, path: str, body: Any = None, expected: int = 200) -> None:
        response = call_api(method, BASE + path, claims=user.claims, json_body=body)
        assert response.status == expected, response.body

    def add_plan(**fields: Any) -> None:
        plans.append(factory.plan(user, created_by=coordinator, title="Rotina visual", **fields))

    def plan_event() -> None:
        with Session(engine) as session:
            plan = session.get_one(InterventionPlan, plans.pop().id)
            plan_events.plan_created(session, SystemClock(), plan, principal_from_claims(coordinator.claims))
            session.commit()

    def daily_job() -> None:
        summary = run_daily_job_at(NOW)
        assert sum(summary.created_by_type.values()) >= 1

    def old_read_row() -> None:
        add_notification(engine, user, created_at=NOW - timedelta(days=40), is_read=True)

    return {
        "create": (nothing, lambda: add_notification(engine, user)),
        "plan event": (add_plan, plan_event),
        "daily job insert": (
            lambda: add_plan(start_date=(NOW - timedelta(days=30)).date(), review_frequency="weekly"),
            daily_job,
        ),
        "mark": (nothing, lambda: api("PATCH", f"/{first_row_id()}", {"is_read": True})),
        "mark-all": (lambda: add_notification(engine, user), lambda: api("POST", "/mark-all-read")),
        "archive": (nothing, lambda: api("PATCH", f"/{first_row_id()}", {"is_archived": True})),
        "bulk": (
            lambda: add_notification(engine, user),
            lambda: api("POST", "/bulk", {"ids": [first_row_id()], "action": "read"}),
        ),
        "delete": (nothing, lambda: api("DELETE", f"/{first_row_id()}", expected=204)),
        "cleanup": (old_read_row, lambda: cleanup(job_context(NOW))),
    }


def test_every_kind_of_change_changes_both_tags(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given a professional with a few notifications and a coordinator of the same school
    set_now(NOW)
    org = factory.organization()
    user, coordinator = factory.user(org), factory.user(org, Role.COORDINATOR)
    for hours in range(3):
        add_notification(factory.engine, user, created_at=NOW - timedelta(hours=hours + 1))
    for name, (set_up, change) in _changes(factory, user, coordinator).items():
        set_up()
        badge, page = _etag(user), _etag(user, "")
        assert _still_current(user, badge) and _still_current(user, page, ""), name
        # When the change is made
        change()
        # Then neither tag revalidates any longer
        assert not _still_current(user, badge), name
        assert not _still_current(user, page, ""), name


def test_an_expiry_with_no_write_changes_the_tag_and_the_count(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given one notification expiring in an hour and one that never expires
    set_now(NOW)
    user = factory.user(factory.organization())
    add_notification(
        factory.engine, user, created_at=NOW - timedelta(hours=1), expires_at=NOW + timedelta(hours=1)
    )
    add_notification(factory.engine, user, created_at=NOW - timedelta(hours=1))
    badge = _etag(user)
    assert _call(user).json["unread_count"] == 2
    # When time passes short of the expiry, the tag holds (answered from the inbox row alone)
    set_now(NOW + timedelta(minutes=59))
    assert _still_current(user, badge)
    # When the expiry passes with nothing written
    set_now(NOW + timedelta(hours=1))
    # Then the old tag no longer revalidates and the count dropped
    response = _call(user, etag=badge)
    assert response.status == 200 and response.json == {"unread_count": 1, "unseen_count": 1}
    # And the new tag holds from then on, forever (nothing else expires)
    later_tag = response.header("ETag")
    set_now(NOW + timedelta(days=400))
    assert later_tag is not None and _still_current(user, later_tag)


def test_a_clock_behind_the_last_check_is_not_answered_from_it(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given a check made late (after a notification expired), then a request whose clock is earlier
    user = factory.user(factory.organization())
    add_notification(
        factory.engine, user, created_at=NOW - timedelta(hours=2), expires_at=NOW + timedelta(hours=1)
    )
    set_now(NOW)
    early = _etag(user)
    set_now(NOW + timedelta(hours=2))
    late = _etag(user)
    # When a container with a clock behind asks with the late tag
    set_now(NOW)
    # Then the late tag is not taken for the early answer, and the early one still holds
    assert early != late
    assert not _still_current(user, late)
    assert _still_current(user, early)
