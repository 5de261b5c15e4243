"""The export summary is cached (``@cached``, real Redis) per caller, under the pending-review list's
generation: served from Redis until a write that shows in the list, never to another user or
organization, and kept no longer than the list's pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from eduautismo.cache.client import get_redis
from eduautismo.cache.manager import get_cache_manager
from eduautismo.domain import Role
from eduautismo.settings import get_settings
from tests.exports.conftest import export
from tests.support.api import call_api
from tests.support.factories import Actor, Factory

OVERDUE_START = datetime.now(UTC).date() - timedelta(days=30)


def _overdue_plan(factory: Factory, professional: Actor, priority: str = "high") -> None:
    factory.plan(professional, priority=priority, start_date=OVERDUE_START)


def _summary_keys() -> list[str]:
    cache = get_cache_manager()
    client = get_redis()
    assert client is not None, "these tests need the suite's Redis"
    return sorted(key.decode() for key in client.scan_iter(match=cache.key("export-summary:*")))


def test_the_summary_is_served_from_the_cache_until_a_write_that_shows_in_the_list(factory: Factory) -> None:
    # Given a coordinator whose organization has two overdue plans, and their summary read once
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR)
    ana = factory.user(organization)
    _overdue_plan(factory, ana)
    _overdue_plan(factory, ana, priority="low")
    assert export(coordinator, "summary").json["total"] == 2
    # When a plan is added behind the API's back (no write of the service, so nothing invalidated) and
    # the summary is read again
    _overdue_plan(factory, ana, priority="medium")
    second = export(coordinator, "summary")
    # Then the second answer is the cached one: the database was not read
    assert second.status == 200
    assert (second.json["total"], second.json["medium_priority"]) == (2, 0)
    # When a review is recorded through the API (a committed write that shows in the list)
    plan_id = call_api(
        "GET",
        "/api/v1/intervention-plans/pending-review",
        claims=coordinator.claims,
        query={"priority": "high"},
    ).json["items"][0]["id"]
    reviewed = call_api(
        "POST",
        f"/api/v1/intervention-plans/{plan_id}/reviews",
        claims=coordinator.claims,
        json_body={"notes": "ok"},
    )
    assert reviewed.status == 201
    # Then the next summary is read again: the reviewed plan left, the plan added meanwhile is counted
    third = export(coordinator, "summary").json
    assert (third["total"], third["high_priority"], third["medium_priority"], third["low_priority"]) == (
        2,
        0,
        1,
        1,
    )


def test_a_cached_summary_is_never_served_to_another_user_or_organization(factory: Factory) -> None:
    # Given two professionals and a coordinator of one organization, a coordinator of another, each with
    # a different number of plans in their scope
    school = factory.organization()
    ana, bruno = factory.user(school, name="Ana"), factory.user(school, name="Bruno")
    school_coordinator = factory.user(school, Role.COORDINATOR, name="Carla")
    for _ in range(2):
        _overdue_plan(factory, ana)
    _overdue_plan(factory, bruno)
    clinic = factory.organization(name="Clínica")
    clinic_coordinator = factory.user(clinic, Role.COORDINATOR, name="Dora")
    clinic_professional = factory.user(clinic)
    for _ in range(4):
        _overdue_plan(factory, clinic_professional)
    # When Ana's summary is cached first, then everyone asks the very same query
    assert export(ana, "summary").json["total"] == 2
    totals = {
        actor.name: export(actor, "summary").json["total"]
        for actor in (ana, bruno, school_coordinator, clinic_coordinator)
    }
    # Then each gets the counts of their own scope, never Ana's cached ones
    assert totals == {"Ana": 2, "Bruno": 1, "Carla": 3, "Dora": 4}
    # And each cached value sits under its caller's organization and user
    keys = _summary_keys()
    for actor in (ana, bruno, school_coordinator, clinic_coordinator):
        owned = [key for key in keys if f"org:{actor.organization_id}:user:{actor.user_id}:" in key]
        assert len(owned) == 1, actor.name


def test_a_cached_summary_expires_with_the_list_s_pages(factory: Factory) -> None:
    # Given a professional's summary, read once (cached)
    ana = factory.user(factory.organization())
    _overdue_plan(factory, ana)
    export(ana, "summary", date_from=date(2000, 1, 1))
    # Then its key expires within the pending-review pages' TTL (with its jitter)
    client = get_redis()
    assert client is not None
    (key,) = [key for key in _summary_keys() if str(ana.user_id) in key]
    settings = get_settings()
    longest = settings.pending_review_cache_ttl * (1 + settings.cache_ttl_jitter_ratio)
    assert 0 < client.ttl(key) <= longest
