"""Idempotent writes (README "Limits and retries"): a POST retried with the same Idempotency-Key is done
once and answered with its first answer; another body under the key is 422; a retry while the first still
runs is 409; keys of two users never meet; without the header nothing changes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text

from eduautismo.domain import Role
from eduautismo_local.embedded import free_port
from tests.support.api import ApiResponse, another_container, call_api
from tests.support.concurrency import run_at_once
from tests.support.factories import Actor, Factory

STUDENTS = "/api/v1/students"
MARIA = {"full_name": "Maria Souza", "birth_date": "2018-03-02"}


def _coordinator(factory: Factory) -> Actor:
    return factory.user(factory.organization(), Role.COORDINATOR)


def _create(actor: Actor, key: str | None, body: dict[str, Any] = MARIA, **options: Any) -> ApiResponse:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return call_api("POST", STUDENTS, claims=actor.claims, json_body=body, headers=headers, **options)


def _students(engine: Engine, actor: Actor) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT full_name FROM students WHERE organization_id = :org ORDER BY full_name"),
            {"org": actor.organization_id},
        )
        return [row[0] for row in rows]


def test_the_same_key_twice_creates_one_student_and_answers_the_same_id(factory: Factory) -> None:
    # Given a coordinator and a key
    coordinator = _coordinator(factory)
    key = str(uuid.uuid4())
    # When the same creation is sent twice with the key (a retry after a timeout)
    first = _create(coordinator, key)
    retry = _create(coordinator, key)
    # Then one student exists; the retry answers the first status and body, marked as replayed
    assert first.status == 201 and first.header("Idempotent-Replayed") is None
    assert retry.status == 201
    assert retry.json == first.json
    assert retry.header("Idempotent-Replayed") == "true"
    assert _students(factory.engine, coordinator) == ["Maria Souza"]


def test_the_same_key_with_another_body_is_422_and_creates_nothing(factory: Factory) -> None:
    # Given a creation done with a key
    coordinator = _coordinator(factory)
    assert _create(coordinator, "retry-1").status == 201
    # When the key comes again with another body
    reused = _create(coordinator, "retry-1", {"full_name": "João Lima"})
    # Then the answer is 422 idempotency_key_reused and nothing more was created
    assert reused.status == 422
    assert reused.json["error"]["code"] == "idempotency_key_reused"
    assert _students(factory.engine, coordinator) == ["Maria Souza"]


def test_without_the_header_every_post_creates(factory: Factory) -> None:
    coordinator = _coordinator(factory)
    # When the same creation is sent twice without a key
    answers = [_create(coordinator, None) for _ in range(2)]
    # Then both create, as before
    assert [answer.status for answer in answers] == [201, 201]
    assert answers[0].json["id"] != answers[1].json["id"]
    assert _students(factory.engine, coordinator) == ["Maria Souza", "Maria Souza"]


def test_keys_of_two_users_are_independent(factory: Factory) -> None:
    # Given two coordinators of the same organization
    organization = factory.organization()
    first, second = (factory.user(organization, Role.COORDINATOR) for _ in range(2))
    # When each sends the same creation under the same key
    answers = [_create(first, "same-key"), _create(second, "same-key")]
    # Then each created their own student; neither is a replay of the other
    assert [answer.status for answer in answers] == [201, 201]
    assert [answer.header("Idempotent-Replayed") for answer in answers] == [None, None]
    assert answers[0].json["id"] != answers[1].json["id"]
    assert _students(factory.engine, first) == ["Maria Souza", "Maria Souza"]


def test_the_same_key_on_another_route_is_another_request(factory: Factory) -> None:
    # Given a student created under a key
    coordinator = _coordinator(factory)
    student = _create(coordinator, "k-1").json
    # When the key is sent with a plan creation
    plan = call_api(
        "POST",
        "/api/v1/intervention-plans",
        claims=coordinator.claims,
        headers={"Idempotency-Key": "k-1"},
        json_body={
            "student_id": student["id"],
            "professional_id": str(coordinator.user_id),
            "title": "Rotina visual",
            "review_frequency": "weekly",
            "start_date": "2026-11-01",
        },
    )
    # Then the plan is created: the key counts per route
    assert plan.status == 201, plan.json
    assert plan.header("Idempotent-Replayed") is None


def test_an_error_answer_is_not_kept_so_a_corrected_retry_runs(factory: Factory) -> None:
    # Given a creation refused (unknown field) under a key
    coordinator = _coordinator(factory)
    refused = _create(coordinator, "fix-me", {**MARIA, "nickname": "Mari"})
    assert refused.status == 422 and refused.json["error"]["code"] == "validation_error"
    # When the corrected body is sent under the same key
    corrected = _create(coordinator, "fix-me")
    # Then it is done: the refusal changed nothing and was not kept
    assert corrected.status == 201
    assert corrected.header("Idempotent-Replayed") is None
    assert _students(factory.engine, coordinator) == ["Maria Souza"]


def test_malformed_keys_are_422_naming_the_header(factory: Factory) -> None:
    coordinator = _coordinator(factory)
    for key in ("", "a b", "x" * 256, "chave-ç"):
        # When the key is empty, has a space, is too long or not ASCII
        answer = _create(coordinator, key)
        # Then it is refused, naming the header, and nothing is created
        assert answer.status == 422, key
        assert answer.json["error"]["details"][0]["field"] == "Idempotency-Key"
    assert _students(factory.engine, coordinator) == []
    assert _create(coordinator, "x" * 255).status == 201


def test_eight_concurrent_duplicates_create_exactly_one_row(factory: Factory) -> None:
    # Given eight containers of the function and one key
    coordinator = _coordinator(factory)
    handlers = [another_container("POST", STUDENTS) for _ in range(8)]

    def send(handler: Callable[..., Any]) -> Callable[[], ApiResponse]:
        return lambda: _create(coordinator, "burst-key", handler=handler)

    # When they send the same creation at the same moment
    answers = run_at_once([send(handler) for handler in handlers])
    # Then exactly one student exists; one answer created it, the others replayed it or were told it runs
    assert _students(factory.engine, coordinator) == ["Maria Souza"]
    created = [
        answer for answer in answers if answer.status == 201 and not answer.header("Idempotent-Replayed")
    ]
    assert len(created) == 1
    for answer in answers:
        if answer.status == 201:
            assert answer.json["id"] == created[0].json["id"]
        else:
            assert answer.status == 409
            assert answer.json["error"]["code"] == "idempotency_in_progress"
            assert answer.header("Retry-After") == "1"


def test_redis_down_refuses_a_keyed_write_and_serves_one_without_a_key(
    factory: Factory, override_settings: Callable[..., None]
) -> None:
    # Given Redis refusing connections
    coordinator = _coordinator(factory)
    override_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    # When a keyed creation and a plain one are sent
    keyed = _create(coordinator, "k")
    plain = _create(coordinator, None)
    # Then the keyed one is 503 (without its record a retry could create twice), the plain one is done
    assert keyed.status == 503
    assert keyed.json["error"]["code"] == "service_unavailable"
    assert plain.status == 201
    assert _students(factory.engine, coordinator) == ["Maria Souza"]


def test_a_user_disabled_after_the_first_post_gets_no_replay(factory: Factory) -> None:
    # Given a coordinator whose creation with a key was done, then disabled by Cognito
    coordinator = _coordinator(factory)
    key = str(uuid.uuid4())
    assert _create(coordinator, key).status == 201
    with factory.engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET status = 'disabled' WHERE id = :id"), {"id": coordinator.user_id}
        )
    # When the same creation is retried with the key, and a key reused with another body
    retry = _create(coordinator, key)
    reused = _create(coordinator, key, {"full_name": "Outra Pessoa"})
    # Then each is refused as any request of a disabled user: no first answer, no hint the key was used
    for refused in (retry, reused):
        assert (refused.status, refused.json["error"]["code"]) == (401, "unauthorized")
        assert refused.header("Idempotent-Replayed") is None
    assert _students(factory.engine, coordinator) == ["Maria Souza"]
