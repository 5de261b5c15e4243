"""The cache: manager operations, X-Cache, invalidation after commit, keys per caller and
local date, stampede protection, Redis down or unreachable, the circuit breaker, EMF metrics."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.cache.client import get_breaker, get_redis
from eduautismo.cache.manager import CacheManager, CacheStatus, cached, get_cache_manager
from eduautismo.clock import FixedClock
from eduautismo.context import Context, build_context
from eduautismo.db.models import InterventionPlan
from eduautismo.domain import Role
from eduautismo.identity.principal import Principal
from eduautismo.observability import metrics
from eduautismo.plans import repository, service
from eduautismo.plans.schemas import PendingReviewQuery, pending_review_namespace
from tests.plans.conftest import PLANS, item_ids, pending
from tests.support.api import call_api
from tests.support.factories import Actor, Factory
from tests.support.faults import TcpProxy

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)


@pytest.fixture
def cache(db: Engine) -> CacheManager:
    return get_cache_manager()


@pytest.fixture(autouse=True)
def no_pending_metrics() -> None:
    """Metrics counted outside a handler (the manager tests) would be flushed by the next invocation."""
    metrics.clear_metrics()


def _emitted_metrics(output: str) -> list[str]:
    """Metric names in the EMF documents the handler printed, in order."""
    names = []
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            names += [
                metric["Name"] for metric in directive["Metrics"] for _ in range(_count_of(document, metric))
            ]
    return names


def _count_of(document: dict[str, Any], metric: dict[str, Any]) -> int:
    value = document[metric["Name"]]
    return len(value) if isinstance(value, list) else 1


# ---- manager operations ----


def test_set_get_delete_with_ttl_and_json(cache: CacheManager) -> None:
    # Given a value with nested JSON types
    value = {"id": str(uuid.uuid4()), "items": [1, 2.5, None, "ã"], "flag": True}
    # When it is set with a TTL, read, then deleted
    assert cache.set("demo:value", value, ttl=120)
    read_back = cache.get("demo:value")
    ttl = get_redis().ttl(cache.key("demo:value"))  # type: ignore[union-attr]
    cache.delete("demo:value")
    # Then it round-trips, expires within the TTL, and is gone after delete
    assert read_back == value
    assert 0 < ttl <= 120
    assert cache.get("demo:value") is None


def test_delete_pattern_removes_only_matching_keys_under_the_prefix(cache: CacheManager) -> None:
    # Given 1,200 matching keys, one other key of ours and one key outside our prefix
    client = get_redis()
    assert client is not None
    for number in range(1_200):
        cache.set(f"purge:{number}", number, ttl=60)
    cache.set("keep:1", 1, ttl=60)
    foreign = f"other-prefix-{uuid.uuid4().hex}:purge:1"
    client.set(foreign, "1", ex=60)
    # When the pattern is purged
    removed = cache.delete_pattern("purge:*")
    # Then exactly the matching keys are gone
    assert removed == 1_200
    assert cache.get("purge:7") is None
    assert cache.get("keep:1") == 1
    assert client.get(foreign) == b"1"
    client.delete(foreign)


def test_cached_decorator_caches_by_arguments_per_caller_in_the_context_s_cache(
    cache: CacheManager, factory: Factory
) -> None:
    # Given a function that counts its calls, cached under a unique prefix, and two callers' contexts
    calls: list[tuple[str, int, str]] = []
    prefix = f"fn-{uuid.uuid4().hex[:8]}"
    org = factory.organization()
    ana, bruno = (build_context(factory.user(org, name=name).principal) for name in ("Ana", "Bruno"))

    @cached(ttl=60, key_prefix=prefix)
    def expensive(ctx: Context, number: int, label: str = "a") -> dict[str, Any]:
        calls.append((ctx.caller.name, number, label))
        return {"number": number, "label": label}

    # When Ana calls it twice with the same arguments and once with others, then Bruno as Ana did first
    results = [expensive(ana, 1), expensive(ana, 1), expensive(ana, 2, label="b"), expensive(bruno, 1)]
    # Then Ana's repeated call is served from Redis, and Bruno's is computed for him
    assert results == [{"number": 1, "label": "a"}] * 2 + [
        {"number": 2, "label": "b"},
        {"number": 1, "label": "a"},
    ]
    assert calls == [("Ana", 1, "a"), ("Ana", 2, "b"), ("Bruno", 1, "a")]
    assert cache.delete_pattern(f"{prefix}:*") == 3


def test_cached_decorator_follows_a_generation_and_runs_uncached_when_it_cannot_be_read(
    cache: CacheManager, factory: Factory, override_settings: Callable[..., None]
) -> None:
    # Given a function cached under a namespace's generation, called once
    calls: list[int] = []
    namespace = f"ns-{uuid.uuid4().hex[:8]}"
    ctx = build_context(factory.user(factory.organization()).principal)

    @cached(ttl=60, key_prefix=f"{namespace}-fn", generation_of=lambda _: namespace)
    def expensive(ctx: Context) -> int:
        calls.append(1)
        return len(calls)

    assert [expensive(ctx), expensive(ctx)] == [1, 1]
    # When the namespace's generation is bumped
    ctx.cache.bump_generation(namespace)
    # Then the next call is computed again, and cached again
    assert [expensive(ctx), expensive(ctx)] == [2, 2]
    # And with Redis unreachable (no generation to read) every call is computed
    override_settings(redis_url="redis://127.0.0.1:1/0")
    unreachable = build_context(ctx.principal)
    assert [expensive(unreachable), expensive(unreachable)] == [3, 4]


# ---- pending review through the handler ----


def _team(factory: Factory) -> tuple[Actor, Actor, Actor]:
    org = factory.organization()
    return factory.user(org, Role.COORDINATOR), factory.user(org), factory.user(org)


def _due_plan(factory: Factory, set_now: Callable[[datetime], FixedClock]) -> tuple[Actor, InterventionPlan]:
    """A professional's daily plan, due today; the clock then set to NOW."""
    _, professional, _ = _team(factory)
    plan = factory.plan(professional, review_frequency="daily", start_date=TODAY)
    set_now(NOW)
    return professional, plan


def test_x_cache_miss_then_hit_and_bypass_on_request(
    factory: Factory, set_now: Callable[[datetime], FixedClock], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a due plan
    professional, _ = _due_plan(factory, set_now)
    capsys.readouterr()
    # When the list is read twice, then with use_cache=false
    first, second, bypass = (
        pending(professional),
        pending(professional),
        pending(professional, use_cache=False),
    )
    # Then MISS, HIT, BYPASS with identical bodies, and CacheMiss then CacheHit are emitted as EMF
    assert [r.header("X-Cache") for r in (first, second, bypass)] == ["MISS", "HIT", "BYPASS"]
    assert first.json == second.json == bypass.json
    assert _emitted_metrics(capsys.readouterr().out) == ["CacheMiss", "CacheHit"]


@pytest.mark.parametrize("write", ["create", "patch", "review", "reassign"])
def test_every_write_is_visible_on_the_next_read(
    factory: Factory, set_now: Callable[[datetime], FixedClock], write: str
) -> None:
    # Given a coordinator's cached page (read twice: the second is a HIT)
    coordinator, professional, colleague = _team(factory)
    plan = factory.plan(professional, priority="low", review_frequency="daily", start_date=TODAY)
    set_now(NOW)
    pending(coordinator)
    before = pending(coordinator)
    assert before.header("X-Cache") == "HIT"
    path = f"{PLANS}/{plan.id}"
    # When a plan write commits
    if write == "create":
        body = {"student_id": str(plan.student_id), "title": "Novo", "review_frequency": "daily"}
        response = call_api("POST", PLANS, claims=professional.claims, json_body=body)
    elif write == "patch":
        response = call_api("PATCH", path, claims=professional.claims, json_body={"priority": "high"})
    elif write == "review":
        response = call_api("POST", f"{path}/reviews", claims=professional.claims, json_body={})
    else:
        response = call_api(
            "PATCH", path, claims=coordinator.claims, json_body={"professional_id": str(colleague.user_id)}
        )
    assert response.status in (200, 201)
    # Then the next read is rebuilt and shows the write
    after = pending(coordinator)
    assert after.header("X-Cache") == "MISS"
    assert after.json == pending(coordinator, use_cache=False).json
    assert after.json != before.json


def test_the_generation_is_bumped_only_after_the_commit(
    factory: Factory, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a spy on the generation bump that looks at the database from another connection
    _, professional, _ = _team(factory)
    plan = factory.plan(professional, priority="low")
    seen_by_others: list[str] = []
    original = CacheManager.bump_generation

    def spy(self: CacheManager, namespace: str) -> None:
        with Session(db) as other:
            seen_by_others.append(other.get(InterventionPlan, plan.id).priority)  # type: ignore[union-attr]
        original(self, namespace)

    monkeypatch.setattr(CacheManager, "bump_generation", spy)
    # When the plan is changed
    call_api("PATCH", f"{PLANS}/{plan.id}", claims=professional.claims, json_body={"priority": "high"})
    # Then at bump time the change was already committed
    assert seen_by_others == ["high"]


def test_one_callers_page_is_never_served_to_another(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given two professionals with one due plan each, in one organization
    coordinator, alice, bruno = _team(factory)
    alices = factory.plan(alice, review_frequency="daily", start_date=TODAY)
    brunos = factory.plan(bruno, review_frequency="daily", start_date=TODAY)
    set_now(NOW)
    # When each asks the same query after Alice's page was cached
    pending(alice)
    alice_again, bruno_first, coordinator_first = pending(alice), pending(bruno), pending(coordinator)
    # Then only Alice gets a HIT, and each sees their own scope
    assert [r.header("X-Cache") for r in (alice_again, bruno_first, coordinator_first)] == [
        "HIT",
        "MISS",
        "MISS",
    ]
    assert item_ids(alice_again) == [str(alices.id)]
    assert item_ids(bruno_first) == [str(brunos.id)]
    assert len(item_ids(coordinator_first)) == 2


def test_organizations_never_share_pages(factory: Factory, set_now: Callable[[datetime], FixedClock]) -> None:
    # Given two organizations' coordinators, one of them with a due plan
    coordinator_a, professional_a, _ = _team(factory)
    coordinator_b, _, _ = _team(factory)
    factory.plan(professional_a, review_frequency="daily", start_date=TODAY)
    set_now(NOW)
    # When both read the same query, A first
    pending(coordinator_a)
    other = pending(coordinator_b)
    # Then B's page is built for B, empty
    assert other.header("X-Cache") == "MISS"
    assert item_ids(other) == []


def test_midnight_in_sao_paulo_starts_a_new_page(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given a daily plan started 13 March (due 14 March) and 23:59 of 10 March in São Paulo
    _, professional, _ = _team(factory)
    plan = factory.plan(professional, review_frequency="daily", start_date=date(2026, 3, 13))
    set_now(datetime(2026, 3, 11, 2, 59, tzinfo=UTC))
    pending(professional)
    before_midnight = pending(professional)
    # When the clock passes local midnight (00:01 of 11 March)
    set_now(datetime(2026, 3, 11, 3, 1, tzinfo=UTC))
    after_midnight = pending(professional)
    # Then the cached page of the 10th is not served: the plan is now within the due-soon window
    assert before_midnight.header("X-Cache") == "HIT"
    assert item_ids(before_midnight) == []
    assert after_midnight.header("X-Cache") == "MISS"
    assert item_ids(after_midnight) == [str(plan.id)]


@pytest.mark.parametrize("redis_url", ["redis://127.0.0.1:1/0", "redis://10.255.255.1:6379/0"])
def test_redis_down_or_unreachable_answers_from_the_database(
    factory: Factory,
    set_now: Callable[[datetime], FixedClock],
    override_settings: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
    redis_url: str,
) -> None:
    # Given a due plan and Redis refusing connections (port 1) or not answering (non-routable address)
    professional, plan = _due_plan(factory, set_now)
    override_settings(redis_url=redis_url)
    capsys.readouterr()
    # When the list is read and a plan is written
    listed = pending(professional)
    written = call_api("PATCH", f"{PLANS}/{plan.id}", claims=professional.claims, json_body={"title": "Novo"})
    # Then both work from the database; the list says BYPASS, a CacheError is counted, the breaker opens
    assert listed.status == 200
    assert listed.header("X-Cache") == "BYPASS"
    assert item_ids(listed) == [str(plan.id)]
    assert written.status == 200
    assert "CacheError" in _emitted_metrics(capsys.readouterr().out)
    assert get_breaker().is_open


def test_without_a_configured_redis_the_list_bypasses_the_cache(
    factory: Factory, set_now: Callable[[datetime], FixedClock], override_settings: Callable[..., None]
) -> None:
    # Given no REDIS_URL
    professional, plan = _due_plan(factory, set_now)
    override_settings(redis_url="")
    # When the list is read / Then it comes from the database
    response = pending(professional)
    assert response.header("X-Cache") == "BYPASS"
    assert item_ids(response) == [str(plan.id)]


def test_local_modes_in_process_redis_caches_and_invalidates(
    factory: Factory, set_now: Callable[[datetime], FixedClock], override_settings: Callable[..., None]
) -> None:
    # Given local mode's in-process Redis stand-in (memory://)
    professional, plan = _due_plan(factory, set_now)
    override_settings(redis_url="memory://")
    # When the list is read twice, the plan is reviewed, and the list is read again
    first, second = pending(professional), pending(professional)
    call_api("POST", f"{PLANS}/{plan.id}/reviews", claims=professional.claims, json_body={})
    after = pending(professional)
    # Then it caches and invalidates like Redis does
    assert [r.header("X-Cache") for r in (first, second, after)] == ["MISS", "HIT", "MISS"]
    assert after.json["items"][0]["last_reviewed_at"] is not None


def test_the_open_breaker_skips_redis_until_it_cools_down(
    factory: Factory,
    set_now: Callable[[datetime], FixedClock],
    override_settings: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given Redis down and one request that opened the breaker
    _, professional, _ = _team(factory)
    set_now(NOW)
    override_settings(redis_url="redis://127.0.0.1:1/0", cache_breaker_seconds="60")
    pending(professional)
    capsys.readouterr()
    # When more requests come while the breaker is open
    answers = [pending(professional) for _ in range(3)]
    # Then they bypass the cache without trying Redis (no new CacheError)
    assert {r.header("X-Cache") for r in answers} == {"BYPASS"}
    assert "CacheError" not in _emitted_metrics(capsys.readouterr().out)


def test_fifty_concurrent_misses_query_the_database_at_most_twice(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a due plan, and page builds slowed down so that all 50 requests overlap
    _, professional, _ = _team(factory)
    factory.plan(professional, review_frequency="daily", start_date=TODAY)
    principal = Principal(professional.user_id, professional.organization_id, "", "", Role.PROFESSIONAL)
    builds: list[int] = []
    real_page = repository.pending_review_page
    start_together = threading.Barrier(50)

    def slow_page(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        threading.Event().wait(0.3)
        return real_page(*args, **kwargs)

    monkeypatch.setattr(repository, "pending_review_page", slow_page)
    results: list[tuple[str, CacheStatus]] = []

    def request() -> None:
        start_together.wait()
        results.append(
            service.pending_review(build_context(principal, clock=FixedClock(NOW)), PendingReviewQuery())
        )

    # When 50 requests miss the same key at once
    threads = [threading.Thread(target=request) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then at most two built the page from the database and all 50 got the same page
    assert len(results) == 50
    assert len(builds) <= 2
    assert len({payload for payload, _ in results}) == 1
    assert sum(status is CacheStatus.MISS for _, status in results) == len(builds)


def test_cached_pages_expire_within_the_ttl_with_jitter(
    factory: Factory, set_now: Callable[[datetime], FixedClock], override_settings: Callable[..., None]
) -> None:
    # Given PENDING_REVIEW_CACHE_TTL=100 with 10 % jitter
    override_settings(pending_review_cache_ttl="100", cache_ttl_jitter_ratio="0.1")
    coordinator, _, _ = _team(factory)
    set_now(NOW)
    cache = get_cache_manager()
    # When pages of several queries are cached
    for limit in range(1, 11):
        pending(coordinator, limit=limit)
    # Then every page key expires between 90 and 110 seconds from now
    client = get_redis()
    assert client is not None
    keys = list(cache_keys(cache, coordinator))
    assert len(keys) == 10
    assert all(90 <= client.ttl(key) <= 110 for key in keys)


def cache_keys(cache: CacheManager, caller: Actor) -> list[str]:
    client = get_redis()
    assert client is not None
    pattern = cache.key(pending_review_namespace(caller.organization_id), "*", "coordinator", "*")
    return [key.decode() for key in client.scan_iter(match=pattern) if not key.endswith(b":rebuild")]


def test_the_key_holds_organization_generation_scope_and_local_date(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given a coordinator's cached page at 23:30 of 10 March in São Paulo (11 March in UTC)
    coordinator, _, _ = _team(factory)
    set_now(datetime(2026, 3, 11, 2, 30, tzinfo=UTC) + timedelta(seconds=0))
    pending(coordinator)
    # When the cache keys are listed
    keys = cache_keys(get_cache_manager(), coordinator)
    # Then the single key names the organization, generation 0, the scope and the local date
    assert len(keys) == 1
    assert f":{coordinator.organization_id}:g0:coordinator:2026-03-10:" in keys[0]


def test_a_write_made_while_redis_is_down_invalidates_older_pages_when_it_returns(
    factory: Factory,
    set_now: Callable[[datetime], FixedClock],
    override_settings: Callable[..., None],
    service_urls: dict[str, str],
) -> None:
    # Given the API reaching Redis through a proxy (no breaker pause), and a page cached while Redis was up
    redis_url = urlsplit(service_urls["redis"])
    proxy = TcpProxy(redis_url.hostname or "127.0.0.1", redis_url.port or 6379)
    proxy.start()
    proxied = urlunsplit(redis_url._replace(netloc=f"127.0.0.1:{proxy.port}"))
    override_settings(redis_url=proxied, cache_breaker_seconds="0")
    _, professional, _ = _team(factory)
    plan = factory.plan(professional, review_frequency="daily", start_date=TODAY, title="Antigo")
    set_now(NOW)
    pending(professional)
    assert pending(professional).header("X-Cache") == "HIT"
    # When the plan is renamed while Redis is down, and Redis comes back (same container, same client)
    proxy.stop()
    try:
        renamed = call_api(
            "PATCH", f"{PLANS}/{plan.id}", claims=professional.claims, json_body={"title": "Novo"}
        )
        assert renamed.status == 200
    finally:
        proxy.start()
    # Then the next read is rebuilt from the database, not the page cached before the write
    after = pending(professional)
    assert after.header("X-Cache") == "MISS"
    assert [item["title"] for item in after.json["items"]] == ["Novo"]
    proxy.stop()
