"""Notification responses carry plan titles: none may be kept by a browser or proxy cache (DESIGN §6)."""

from __future__ import annotations

from sqlalchemy import Engine

from eduautismo.domain import Role
from tests.notifications.support import add_notification
from tests.support.api import call_api
from tests.support.factories import Factory


def test_every_notification_answer_is_no_store(factory: Factory, db: Engine) -> None:
    # Given a professional with a notification about a plan
    professional = factory.user(factory.organization(), Role.PROFESSIONAL)
    notification_id = add_notification(db, professional).id
    # When they read the list, the counter and change the notification
    answers = [
        call_api("GET", "/api/v1/notifications", claims=professional.claims),
        call_api("GET", "/api/v1/notifications/unread-count", claims=professional.claims),
        call_api(
            "PATCH",
            f"/api/v1/notifications/{notification_id}",
            claims=professional.claims,
            json_body={"is_read": True},
        ),
    ]
    # Then every answer forbids storing it
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert [answer.header("Cache-Control") for answer in answers] == ["no-store"] * 3
