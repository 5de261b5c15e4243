"""Answers without a body (204, 304, and the exports' 303) carry neither a body nor a content type: a client
on a kept-alive connection reads no body after them, so any byte sent would be taken for the start of the
next answer on that connection (HTTP forbids a body in a 204 or a 304)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.db.models import Notification
from eduautismo.domain import NotificationPriority, NotificationType, Role
from tests.support.api import call_api
from tests.support.factories import Actor, Factory
from tests.support.live_server import token_for


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class KeptAlive:
    """One HTTP/1.1 connection reused for every request, as browsers and HTTP clients do."""

    def __init__(self, base_url: str, actor: Actor) -> None:
        self.connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=30)
        self.authorization = f"Bearer {token_for(actor)}"

    def request(self, method: str, path: str, body: Any = None, **headers: str) -> Answer:
        sent_headers = {"Authorization": self.authorization, **headers}
        payload = None
        if body is not None:
            payload = json.dumps(body)
            sent_headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=payload, headers=sent_headers)
        response = self.connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())


@pytest.fixture
def coordinator(factory: Factory) -> Actor:
    return factory.user(factory.organization(), Role.COORDINATOR, name="Coordenação")


@pytest.fixture
def client(base_url: str, coordinator: Actor) -> Iterator[KeptAlive]:
    kept = KeptAlive(base_url, coordinator)
    yield kept
    kept.connection.close()


def _notification_of(actor: Actor, db: Engine) -> str:
    """A notification in the actor's inbox."""
    notification = Notification(
        organization_id=actor.organization_id,
        user_id=actor.user_id,
        type=NotificationType.SYSTEM.value,
        priority=NotificationPriority.LOW.value,
        title="Aviso do sistema",
        message="Manutenção programada.",
    )
    with Session(db, expire_on_commit=False) as session:
        session.add(notification)
        session.commit()
    return str(notification.id)


def _then_the_next_answer_on_the_connection_is_whole(client: KeptAlive, answer: Answer, status: int) -> None:
    assert answer.status == status, answer
    after = client.request("GET", "/api/v1/health")
    assert after.status == 200 and json.loads(after.body)["status"] == "ok"
    if status != 303:
        assert answer.body == b""
        assert "content-type" not in answer.headers, answer.headers
        assert "content-length" not in answer.headers, answer.headers


def test_a_204_of_a_deleted_notification_leaves_the_connection_usable(
    client: KeptAlive, coordinator: Actor, db: Engine
) -> None:
    # Given a notification of the caller
    notification_id = _notification_of(coordinator, db)
    # When it is deleted on a kept-alive connection, and the connection is used again
    answer = client.request("DELETE", f"/api/v1/notifications/{notification_id}")
    # Then the 204 has no body and no content type, and the next answer arrives whole
    _then_the_next_answer_on_the_connection_is_whole(client, answer, 204)


def test_a_204_of_an_erased_student_leaves_the_connection_usable(
    client: KeptAlive, coordinator: Actor, factory: Factory
) -> None:
    # Given a student of the coordinator's organization
    student_id = factory.student(coordinator.organization_id)
    # When the student is erased on a kept-alive connection, and the connection is used again
    answer = client.request("DELETE", f"/api/v1/students/{student_id}")
    # Then the same
    _then_the_next_answer_on_the_connection_is_whole(client, answer, 204)


@pytest.mark.parametrize(
    "path", ["/api/v1/notifications/unread-count", "/api/v1/notifications", "/api/v1/notifications?skip=0"]
)
def test_a_304_of_a_current_etag_leaves_the_connection_usable(
    client: KeptAlive, coordinator: Actor, db: Engine, path: str
) -> None:
    # Given the ETag of the caller's inbox
    _notification_of(coordinator, db)
    etag = client.request("GET", path).headers["etag"]
    # When it is sent back on the same connection while current, and the connection is used again
    answer = client.request("GET", path, **{"If-None-Match": etag})
    # Then the 304 has no body and no content type, and the next answer arrives whole
    assert answer.headers["etag"] == etag
    _then_the_next_answer_on_the_connection_is_whole(client, answer, 304)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/export/pending-review/excel?redirect=true",
        "/api/v1/export/pending-review/csv?redirect=true",
        "/api/v1/export/review-compliance/excel?redirect=true",
    ],
)
def test_a_303_to_an_export_leaves_the_connection_usable(
    client: KeptAlive, coordinator: Actor, factory: Factory, path: str
) -> None:
    # Given a plan to export
    factory.plan(coordinator)
    # When an export is asked for as a redirect, and the connection is used again
    answer = client.request("GET", path)
    # Then it answers 303 to the link, and the next answer arrives whole
    assert answer.headers["location"].startswith("http")
    _then_the_next_answer_on_the_connection_is_whole(client, answer, 303)


def test_lambda_answers_without_a_body_have_no_body_and_no_content_type(
    coordinator: Actor, factory: Factory, db: Engine
) -> None:
    # Given a notification and a student of the coordinator
    notification_id = _notification_of(coordinator, db)
    student_id = factory.student(coordinator.organization_id)
    # When the functions answer 204 and 304
    answers = [
        call_api("DELETE", f"/api/v1/notifications/{notification_id}", claims=coordinator.claims),
        call_api("DELETE", f"/api/v1/students/{student_id}", claims=coordinator.claims),
    ]
    etag = call_api("GET", "/api/v1/notifications/unread-count", claims=coordinator.claims).header("ETag")
    answers.append(
        call_api(
            "GET",
            "/api/v1/notifications/unread-count",
            claims=coordinator.claims,
            headers={"If-None-Match": str(etag)},
        )
    )
    # Then the Lambda responses themselves hold no body and no content type
    assert [answer.status for answer in answers] == [204, 204, 304]
    assert [answer.body for answer in answers] == [b"", b"", b""]
    assert [answer.header("Content-Type") for answer in answers] == [None, None, None]
