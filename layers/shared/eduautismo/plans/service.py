"""Use cases of the students and plans API: scope, roles, derived dates, notification hooks, cache.

Writes run in one unit of work with their notification hooks (nothing lost, nothing half-done); the
pending-review cache generation is bumped only after that unit of work has committed, so a reader can
never cache a page built before the write under the new generation.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from eduautismo.cache.manager import CacheManager, CacheStatus, dumps, with_jitter
from eduautismo.clock import Clock, local_today
from eduautismo.db.engine import SessionScope
from eduautismo.db.models import InterventionPlan, PlanReview, Student
from eduautismo.domain import DEFAULT_TIMEZONE, ReviewFrequency, next_review_due
from eduautismo.errors import Forbidden, InvalidInput, NotFound
from eduautismo.identity.principal import Principal
from eduautismo.notifications import plan_events
from eduautismo.plans import repository
from eduautismo.plans.pending_review import (
    PageRequest,
    PendingReviewFilters,
    PendingReviewWindow,
    authorize_filters,
    pending_review_page,
)
from eduautismo.plans.schemas import (
    PlanCreate,
    PlanOut,
    PlanUpdate,
    ReviewCreate,
    StudentCreate,
    page_json,
    review_out,
    student_out,
)
from eduautismo.settings import get_settings

PENDING_REVIEW_NAMESPACE = "pending-review"

_timezones: dict[uuid.UUID, tuple[str, float]] = {}
_timezones_lock = threading.Lock()


def organization_timezone(session_scope: SessionScope, organization_id: uuid.UUID) -> str:
    """The organization's timezone, kept in-process for a few minutes so a cache hit needs no query."""
    now = time.monotonic()
    known = _timezones.get(organization_id)
    if known is not None and known[1] > now:
        return known[0]
    with session_scope() as session:
        timezone = repository.organization_timezone(session, organization_id) or DEFAULT_TIMEZONE
    with _timezones_lock:
        _timezones[organization_id] = (timezone, now + get_settings().organization_timezone_ttl_seconds)
    return timezone


def forget_organization_timezones() -> None:
    with _timezones_lock:
        _timezones.clear()


def organization_window(
    session_scope: SessionScope, principal: Principal, clock: Clock
) -> PendingReviewWindow:
    timezone = organization_timezone(session_scope, principal.organization_id)
    return PendingReviewWindow(today=local_today(clock.now(), timezone), timezone=timezone)


# ---- students ----


def create_student(session: Session, principal: Principal, body: StudentCreate) -> dict[str, Any]:
    if not principal.is_coordinator:
        raise Forbidden("only coordinators create students")
    student = Student(
        organization_id=principal.organization_id, full_name=body.full_name, birth_date=body.birth_date
    )
    session.add(student)
    session.flush()
    session.refresh(student)
    return student_out(student)


def get_student(session: Session, principal: Principal, student_id: uuid.UUID) -> dict[str, Any]:
    student = repository.find_student(session, principal, student_id)
    if student is None:
        raise NotFound("student")
    return student_out(student)


def list_students(session: Session, principal: Principal, skip: int, limit: int) -> dict[str, Any]:
    students, total = repository.list_students(session, principal, skip, limit)
    return page_json([student_out(student) for student in students], total, skip, limit)


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
        raise InvalidInput.for_field("professional_id", "no such user in your organization")
    return requested


def _refresh_due_date(plan: InterventionPlan, timezone: str) -> None:
    plan.next_review_due = next_review_due(
        ReviewFrequency(plan.review_frequency), plan.start_date, plan.last_reviewed_at, timezone
    )


def create_plan(
    session: Session, principal: Principal, body: PlanCreate, window: PendingReviewWindow
) -> dict[str, Any]:
    professional_id = _responsible_professional(session, principal, body.professional_id)
    if not repository.organization_student_exists(session, principal.organization_id, body.student_id):
        raise InvalidInput.for_field("student_id", "no such student in your organization")
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
    return PlanOut.build(plan, window.today).as_json()


def _scoped_plan(
    session: Session, principal: Principal, plan_id: uuid.UUID, for_update: bool
) -> InterventionPlan:
    plan = repository.find_plan(session, principal, plan_id, for_update=for_update)
    if plan is None:
        raise NotFound("intervention plan")
    return plan


def get_plan(
    session: Session, principal: Principal, plan_id: uuid.UUID, window: PendingReviewWindow
) -> dict[str, Any]:
    return PlanOut.build(_scoped_plan(session, principal, plan_id, False), window.today).as_json()


def update_plan(
    session: Session, principal: Principal, plan_id: uuid.UUID, body: PlanUpdate, window: PendingReviewWindow
) -> dict[str, Any]:
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
    return PlanOut.build(plan, window.today).as_json()


def review_plan(
    session: Session,
    principal: Principal,
    plan_id: uuid.UUID,
    body: ReviewCreate,
    window: PendingReviewWindow,
    clock: Clock,
) -> dict[str, Any]:
    plan = _scoped_plan(session, principal, plan_id, True)
    reviewed_at = clock.now()
    review = PlanReview(
        plan_id=plan.id, reviewer_id=principal.user_id, reviewed_at=reviewed_at, notes=body.notes
    )
    session.add(review)
    plan.last_reviewed_at = reviewed_at
    _refresh_due_date(plan, window.timezone)
    session.flush()
    plan_events.plan_reviewed(session, plan, principal)
    session.flush()
    session.refresh(plan)
    today = local_today(reviewed_at, window.timezone)
    return review_out(review, PlanOut.build(plan, today))


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


def pending_review(
    session_scope: SessionScope,
    cache: CacheManager,
    principal: Principal,
    filters: PendingReviewFilters,
    window: PendingReviewWindow,
    page: PageRequest,
    *,
    use_cache: bool,
) -> tuple[str, CacheStatus]:
    """The page as a JSON string, and whether it came from the cache."""
    authorize_filters(principal, filters)

    def build() -> str:
        with session_scope() as session:
            return dumps(pending_review_page(session, principal, filters, window, page))

    generation = cache.generation(pending_review_namespace(principal.organization_id)) if use_cache else None
    if generation is None:
        return build(), CacheStatus.BYPASS
    key = pending_review_cache_key(principal, filters, window.today, generation, page)
    settings = get_settings()
    ttl = with_jitter(settings.pending_review_cache_ttl, settings.cache_ttl_jitter_ratio)
    return cache.read_through(key, build, ttl)
