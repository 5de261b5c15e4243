"""Rate limits per caller (README "Limits and retries"): a burst of one user is answered 429 while
another user is served; the draft RateLimit header fields count down and reset; Redis down lets requests
through; the limit is decided before any database work."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from eduautismo.domain import Role
from eduautismo.observability import metrics
from eduautismo_local.embedded import free_port
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory

UNREAD = "/api/v1/notifications/unread-count"
MARK_ALL_READ = "/api/v1/notifications/mark-all-read"
HEALTH = "/api/v1/health"
RATE_LIMIT = re.compile(r'^"(reads|writes)";r=(\d+);t=(\d+)$')


@pytest.fixture(autouse=True)
def no_pending_metrics() -> None:
    metrics.clear_metrics()


def _limit(response: ApiResponse) -> tuple[str, int, int]:
    """The RateLimit field as (policy, remaining, seconds until whole again)."""
    matched = RATE_LIMIT.fullmatch(response.header("RateLimit") or "")
    assert matched, response.headers
    return matched[1], int(matched[2]), int(matched[3])


def _metric_names(output: str) -> set[str]:
    names: set[str] = set()
    for line in output.splitlines():
        if line.startswith("{") and "_aws" in line:
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                names.update(metric["Name"] for metric in directive["Metrics"])
    return names


def _two_professionals(factory: Factory) -> tuple[Actor, Actor]:
    organization = factory.organization()
    return factory.user(organization, Role.PROFESSIONAL), factory.user(organization, Role.PROFESSIONAL)


def test_a_burst_of_one_user_is_429_while_another_user_is_served(
    factory: Factory, override_settings: Callable[..., None]
) -> None:
    # Given a read budget of 5 per 10 s and two users
    override_settings(rate_limit_reads="5", rate_limit_writes="3", rate_limit_window_seconds="10")
    greedy, other = _two_professionals(factory)
    assert call_api("POST", MARK_ALL_READ, claims=greedy.claims, json_body={}).status == 200  # provisioned
    # When the first sends 8 reads in a burst, and the second 5 reads in the same seconds
    burst = [call_api("GET", UNREAD, claims=greedy.claims) for _ in range(8)]
    others = [call_api("GET", UNREAD, claims=other.claims) for _ in range(5)]
    # Then the first 5 of the burst are served and the rest are 429 with the envelope and Retry-After
    assert [response.status for response in burst] == [200] * 5 + [429] * 3
    refused = burst[-1]
    assert refused.json["error"]["code"] == "rate_limited"
    assert refused.json["error"]["details"] == []
    assert 1 <= int(refused.header("Retry-After") or "0") <= 10
    assert _limit(refused) == ("reads", 0, _limit(refused)[2])
    assert refused.header("Cache-Control") == "no-store"
    # And the other user, counted apart, is served every time
    assert [response.status for response in others] == [200] * 5
    # And writes have their own budget: the greedy reader may still write
    assert call_api("POST", MARK_ALL_READ, claims=greedy.claims, json_body={}).status == 200


def test_the_headers_count_down_and_the_budget_refills(
    factory: Factory, override_settings: Callable[..., None]
) -> None:
    # Given a budget of 3 reads per 3 s (one read back each second), and a user already provisioned by a
    # write (its own budget), so that the reads below are quick ones
    override_settings(rate_limit_reads="3", rate_limit_writes="2", rate_limit_window_seconds="3")
    user, _ = _two_professionals(factory)
    assert call_api("POST", MARK_ALL_READ, claims=user.claims, json_body={}).status == 200
    # When the user reads four times at once
    answers = [call_api("GET", UNREAD, claims=user.claims) for _ in range(4)]
    # Then every answer names both policies, and the remaining count goes 2, 1, 0, then a refusal
    assert {answer.header("RateLimit-Policy") for answer in answers} == {'"reads";q=3;w=3, "writes";q=2;w=3'}
    assert [_limit(answer)[1] for answer in answers] == [2, 1, 0, 0]
    assert answers[3].status == 429
    assert all(1 <= _limit(answer)[2] <= 3 for answer in answers)
    # When the seconds the last answer named have passed
    time.sleep(_limit(answers[3])[2])
    again = call_api("GET", UNREAD, claims=user.claims)
    # Then the budget is whole again
    assert again.status == 200
    assert _limit(again)[:2] == ("reads", 2)


def test_a_budget_too_large_to_measure_still_counts(
    factory: Factory, override_settings: Callable[..., None]
) -> None:
    # Given a budget so large that one request's share of the window is below a microsecond
    override_settings(rate_limit_reads="100000000", rate_limit_window_seconds="10")
    user, _ = _two_professionals(factory)
    # When the user reads
    answer = call_api("GET", UNREAD, claims=user.claims)
    # Then the limiter counted it (it once asked Redis for a 0 ms expiry, failed, and let it pass uncounted)
    assert answer.status == 200
    assert _limit(answer)[0] == "reads"


def test_routes_without_login_are_counted_per_source_address(
    db: Engine, override_settings: Callable[..., None]
) -> None:
    # Given a read budget of 2 and health, which needs no token
    override_settings(rate_limit_reads="2")
    # When one address asks three times and another once
    first = [call_api("GET", HEALTH, source_ip="198.51.100.7").status for _ in range(3)]
    second = call_api("GET", HEALTH, source_ip="198.51.100.8")
    # Then the first address is refused on its third call, the second is served
    assert first == [200, 200, 429]
    assert second.status == 200
    assert _limit(second)[:2] == ("reads", 1)


def test_a_caller_over_its_budget_is_refused_before_any_database_work(
    factory: Factory, override_settings: Callable[..., None]
) -> None:
    # Given a budget of one read and an unreachable database, set together: a later settings change
    # resets the runtime, and with the in-process Redis stand-in that forgets the spent budget too
    user, _ = _two_professionals(factory)
    override_settings(
        rate_limit_reads="1", database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    )
    # When the user reads twice
    first = call_api("GET", UNREAD, claims=user.claims)
    refused = call_api("GET", UNREAD, claims=user.claims)
    # Then the first read spent the budget reaching for the database (503), and the second is the 429,
    # decided without the database (which would have been another 503)
    assert first.status == 503
    assert refused.status == 429
    assert refused.json["error"]["code"] == "rate_limited"


def test_redis_down_lets_requests_through_and_counts_a_metric(
    factory: Factory, override_settings: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a budget of 2 reads and Redis refusing connections
    user, _ = _two_professionals(factory)
    override_settings(rate_limit_reads="2", redis_url=f"redis://127.0.0.1:{free_port()}/0")
    capsys.readouterr()
    # When the user reads 5 times
    answers = [call_api("GET", UNREAD, claims=user.claims) for _ in range(5)]
    # Then every read is served; the policy is still announced, no count is claimed, the bypass is counted
    assert [answer.status for answer in answers] == [200] * 5
    assert all(answer.header("RateLimit-Policy") for answer in answers)
    assert all(answer.header("RateLimit") is None for answer in answers)
    assert "RateLimitBypass" in _metric_names(capsys.readouterr().out)
