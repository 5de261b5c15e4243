"""Use cases of the intervention plans API: scope, roles, derived dates, notification hooks, cache.

Each plan use case takes the caller and what they asked for, then its adapters by keyword (``sessions``,
``cache``, ``clock``), opens its own unit of work and answers a response model. Writes run in one unit of
work with their notification hooks (nothing lost, nothing half-done); the pending-review cache generation
is bumped only after that unit of work has committed, so a reader can never cache a page built before
the write under the new generation.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import asdict
from datetime import date

from sqlalchemy.orm import Session

from eduautismo import resettable
from eduautismo.cache.manager import CacheManager, CacheStatus, dumps, with_jitter
from eduautismo.clock import Clock, local_today
from eduautismo.db.engine import SessionScope
from eduautismo.db.models import InterventionPlan, PlanReview
from eduautismo.domain import DEFAULT_TIMEZONE, ReviewFrequency, next_review_due
from eduautismo.errors import Forbidden, NotFound
from eduautismo.identity.principal import Principal
from eduautismo.notifications import plan_events
from eduautismo.plans import repository
from eduautismo.plans.pending_review import (
    PageRequest,
    PendingReviewFilters,
    PendingReviewWindow,
    authorize_filters,
)
from eduautismo.plans.schemas import (
    PlanCreate,
    PlanOut,
    PlanPage,
    PlanUpdate,
    ReviewCreate,
    ReviewOut,
)
from eduautismo.settings import get_settings
from eduautismo.students import repository as students_repository

PENDING_REVIEW_NAMESPACE = "pending-review"

_timezones: resettable.Memo[uuid.UUID, tuple[str, float]] = resettable.Memo(f"{__name__}._timezones")


def organization_timezone(session_scope: SessionScope, organization_id: uuid.UUID) -> str:
    """The organization's timezone, kept in-process for a few minutes so a cache hit needs no query."""
    now = time.monotonic()
    known = _timezones.get(organization_id)
    if known is not None and known[1] > now:
        return known[0]
    with session_scope() as session:
        timezone = repository.organization_timezone(session, organization_id) or DEFAULT_TIMEZONE
    _timezones.put(organization_id, (timezone, now + get_settings().organization_timezone_ttl_seconds))
    return timezone


def organization_window(
    session_scope: SessionScope, principal: Principal, clock: Clock
) -> PendingReviewWindow:
    timezone = organization_timezone(session_scope, principal.organization_id)
    return PendingReviewWindow(today=local_today(clock.now(), timezone), timezone=timezone)


# ---- plans ----


def _responsible_professional(
    session: Session, principal: Principal, requested: uuid.UUID | None
) -> uuid.UUID:
    """Professionals plan only for themselves; coordinators assign anyone of their organization."""
    if requested is None or requested == principal.user_id:
        return principal.user_id
    if not principal.is_coordinator:
        raise Forbidden("only coordinators assign plans to another professional")
    if not repository.organization_user_exists(session, principal.organization_id, requested):
        raise NotFound.referenced_by("professional_id", "user")
    return requested


def _refresh_due_date(plan: InterventionPlan, timezone: str) -> None:
    plan.next_review_due = next_review_due(
        ReviewFrequency(plan.review_frequency), plan.start_date, plan.last_reviewed_at, timezone
    )


def _scoped_plan(
    session: Session, principal: Principal, plan_id: uuid.UUID, for_update: bool
) -> InterventionPlan:
    plan = repository.find_plan(session, principal, plan_id, for_update=for_update)
    if plan is None:
        raise NotFound("intervention plan")
    return plan


def create_plan(
    principal: Principal, body: PlanCreate, *, sessions: SessionScope, cache: CacheManager, clock: Clock
) -> PlanOut:
    window = organization_window(sessions, principal, clock)
    with sessions() as session:
        professional_id = _responsible_professional(session, principal, body.professional_id)
        # A professional attaches only students already in their caseload (DESIGN §2); any other id
        # answers exactly like one that does not exist.
        if students_repository.find_student(session, principal, body.student_id) is None:
            raise NotFound.referenced_by("student_id", "student")
        plan = InterventionPlan(
            organization_id=principal.organization_id,
            student_id=body.student_id,
            professional_id=professional_id,
            created_by_id=principal.user_id,
            title=body.title,
            description=body.description,
            status=body.status.value,
            priority=body.priority.value,
            review_frequency=body.review_frequency.value,
            start_date=body.start_date or window.today,
        )
        _refresh_due_date(plan, window.timezone)
        session.add(plan)
        session.flush()
        plan_events.plan_created(session, plan, principal)
        session.flush()
        session.refresh(plan)
        created = PlanOut.build(plan, window.today)
    invalidate_pending_review(cache, principal.organization_id)
    return created


def get_plan(principal: Principal, plan_id: uuid.UUID, *, sessions: SessionScope, clock: Clock) -> PlanOut:
    window = organization_window(sessions, principal, clock)
    with sessions() as session:
        return PlanOut.build(_scoped_plan(session, principal, plan_id, False), window.today)


def update_plan(
    principal: Principal,
    plan_id: uuid.UUID,
    body: PlanUpdate,
    *,
    sessions: SessionScope,
    cache: CacheManager,
    clock: Clock,
) -> PlanOut:
    window = organization_window(sessions, principal, clock)
    with sessions() as session:
        plan = _scoped_plan(session, principal, plan_id, True)
        changes = body.changes()
        if "professional_id" in changes and changes["professional_id"] != plan.professional_id:
            if not principal.is_coordinator:
                raise Forbidden("only coordinators assign plans to another professional")
            _responsible_professional(session, principal, changes["professional_id"])
        previous_priority = plan.priority
        for name, value in changes.items():
            setattr(plan, name, getattr(value, "value", value))
        _refresh_due_date(plan, window.timezone)
        session.flush()
        plan_events.plan_updated(session, plan, principal, previous_priority)
        session.flush()
        session.refresh(plan)
        updated = PlanOut.build(plan, window.today)
    invalidate_pending_review(cache, principal.organization_id)
    return updated


def review_plan(
    principal: Principal,
    plan_id: uuid.UUID,
    body: ReviewCreate,
    *,
    sessions: SessionScope,
    cache: CacheManager,
    clock: Clock,
) -> ReviewOut:
    """Record a review now: the plan's next due date counts from the review's local date."""
    timezone = organization_timezone(sessions, principal.organization_id)
    reviewed_at = clock.now()
    with sessions() as session:
        plan = _scoped_plan(session, principal, plan_id, True)
        review = PlanReview(
            plan_id=plan.id, reviewer_id=principal.user_id, reviewed_at=reviewed_at, notes=body.notes
        )
        session.add(review)
        plan.last_reviewed_at = reviewed_at
        _refresh_due_date(plan, timezone)
        session.flush()
        plan_events.plan_reviewed(session, plan, principal)
        session.flush()
        session.refresh(plan)
        recorded = ReviewOut(
            id=review.id,
            plan_id=review.plan_id,
            reviewer_id=review.reviewer_id,
            reviewed_at=review.reviewed_at,
            notes=review.notes,
            plan=PlanOut.build(plan, local_today(reviewed_at, timezone)),
        )
    invalidate_pending_review(cache, principal.organization_id)
    return recorded


# ---- pending review ----


def pending_review_namespace(organization_id: uuid.UUID) -> str:
    return f"{PENDING_REVIEW_NAMESPACE}:{organization_id}"


def invalidate_pending_review(cache: CacheManager, organization_id: uuid.UUID) -> None:
    """After a committed plan write: every cached page of the organization becomes unreachable (O(1))."""
    cache.bump_generation(pending_review_namespace(organization_id))


def pending_review_cache_key(
    principal: Principal,
    filters: PendingReviewFilters,
    today: date,
    generation: int,
    page: PageRequest,
) -> str:
    """Organization + generation + caller scope + local date + every parameter that shapes the page."""
    scope = "coordinator" if principal.is_coordinator else f"professional:{principal.user_id}"
    digest = hashlib.sha256(dumps([filters.cache_fingerprint(), asdict(page)]).encode()).hexdigest()[:40]
    return f"{pending_review_namespace(principal.organization_id)}:g{generation}:{scope}:{today}:{digest}"


def pending_review_page(
    principal: Principal,
    filters: PendingReviewFilters,
    window: PendingReviewWindow,
    page: PageRequest,
    *,
    sessions: SessionScope,
) -> PlanPage:
    """One page of the list, read from the database."""
    with sessions() as session:
        plans, total = repository.pending_review_page(session, principal, filters, window, page)
        items = [PlanOut.build(plan, window.today, student_name) for plan, student_name in plans]
    return PlanPage.of(items, total, page.skip, page.limit)


def pending_review(
    principal: Principal,
    filters: PendingReviewFilters,
    page: PageRequest,
    *,
    use_cache: bool,
    sessions: SessionScope,
    cache: CacheManager,
    clock: Clock,
) -> tuple[str, CacheStatus]:
    """The page as JSON text (``PlanPage``), and whether it came from the cache.

    Text, not a model: a cache HIT is answered with the bytes Redis holds, never parsed and validated
    again (they were written from a validated ``PlanPage``); a MISS stores and answers the same text.
    """
    authorize_filters(principal, filters)
    window = organization_window(sessions, principal, clock)

    def build() -> str:
        return pending_review_page(principal, filters, window, page, sessions=sessions).model_dump_json()

    generation = cache.generation(pending_review_namespace(principal.organization_id)) if use_cache else None
    if generation is None:
        return build(), CacheStatus.BYPASS
    key = pending_review_cache_key(principal, filters, window.today, generation, page)
    settings = get_settings()
    ttl = with_jitter(settings.pending_review_cache_ttl, settings.cache_ttl_jitter_ratio)
    return cache.read_through(key, build, ttl)
