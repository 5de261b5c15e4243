"""Use cases of the intervention plans API: scope, roles, derived dates, notification hooks, cache.

Each use case is ``verb(ctx, request) -> response model`` and opens its own unit of work
(docs/ARCHITECTURE.md). Writes run in one unit of work with their notification hooks (nothing lost,
nothing half-done); the pending-review cache generation is bumped only after that unit of work has
committed, so a reader can never cache a page built before the write under the new generation.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from eduautismo.cache.manager import CacheStatus, with_jitter
from eduautismo.context import Context
from eduautismo.db.models import InterventionPlan, PlanReview
from eduautismo.domain import ReviewFrequency, next_review_due
from eduautismo.errors import Forbidden, NotFound, found
from eduautismo.identity.principal import Principal
from eduautismo.notifications import plan_events
from eduautismo.organizations import repository as organizations_repository
from eduautismo.organizations import service as organizations
from eduautismo.organizations.schemas import LocalDay
from eduautismo.plans import repository
from eduautismo.plans.schemas import (
    PageRequest,
    PendingReviewFilters,
    PendingReviewQuery,
    PlanCreate,
    PlanOut,
    PlanPage,
    PlanUpdate,
    ReviewCreate,
    ReviewOut,
    pending_review_cache_key,
    pending_review_namespace,
)
from eduautismo.students import repository as students_repository

# ---- plans ----


def _responsible_professional(
    session: Session, principal: Principal, requested: uuid.UUID | None
) -> uuid.UUID:
    """Professionals plan only for themselves; coordinators assign anyone of their organization."""
    if requested is None or requested == principal.user_id:
        return principal.user_id
    if not principal.is_coordinator:
        raise Forbidden("only coordinators assign plans to another professional")
    if not organizations_repository.has_user(session, principal.organization_id, requested):
        raise NotFound.referenced_by("professional_id", "user")
    return requested


def _refresh_due_date(plan: InterventionPlan, timezone: str) -> None:
    plan.next_review_due = next_review_due(
        ReviewFrequency(plan.review_frequency), plan.start_date, plan.last_reviewed_at, timezone
    )


def _scoped_plan(
    session: Session, principal: Principal, plan_id: uuid.UUID, for_update: bool
) -> InterventionPlan:
    return found(
        repository.find_plan(session, principal, plan_id, for_update=for_update), "intervention plan"
    )


def create_plan(ctx: Context, body: PlanCreate) -> PlanOut:
    principal = ctx.caller
    day = organizations.local_day(ctx, principal.organization_id)
    with ctx.uow() as session:
        professional_id = _responsible_professional(session, principal, body.professional_id)
        # A professional attaches only students already in their caseload; any other id answers exactly
        # like one that does not exist.
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
            start_date=body.start_date or day.today,
        )
        _refresh_due_date(plan, day.timezone)
        session.add(plan)
        session.flush()
        plan_events.plan_created(session, ctx.clock, plan, principal)
        session.flush()
        session.refresh(plan)
        created = PlanOut.build(plan, day.today)
    invalidate_pending_review(ctx, principal.organization_id)
    return created


def get_plan(ctx: Context, plan_id: uuid.UUID) -> PlanOut:
    principal = ctx.caller
    day = organizations.local_day(ctx, principal.organization_id)
    with ctx.uow() as session:
        return PlanOut.build(_scoped_plan(session, principal, plan_id, False), day.today)


def update_plan(ctx: Context, plan_id: uuid.UUID, body: PlanUpdate) -> PlanOut:
    principal = ctx.caller
    day = organizations.local_day(ctx, principal.organization_id)
    with ctx.uow() as session:
        plan = _scoped_plan(session, principal, plan_id, True)
        changes = body.changes()
        if "professional_id" in changes and changes["professional_id"] != plan.professional_id:
            if not principal.is_coordinator:
                raise Forbidden("only coordinators assign plans to another professional")
            _responsible_professional(session, principal, changes["professional_id"])
        previous_priority = plan.priority
        for name, value in changes.items():
            setattr(plan, name, getattr(value, "value", value))
        _refresh_due_date(plan, day.timezone)
        session.flush()
        plan_events.plan_updated(session, ctx.clock, plan, principal, previous_priority)
        session.flush()
        session.refresh(plan)
        updated = PlanOut.build(plan, day.today)
    invalidate_pending_review(ctx, principal.organization_id)
    return updated


def review_plan(ctx: Context, plan_id: uuid.UUID, body: ReviewCreate) -> ReviewOut:
    """Record a review now: the plan's next due date counts from the review's local date."""
    principal = ctx.caller
    reviewed_at = ctx.clock.now()
    day = organizations.local_day(ctx, principal.organization_id, reviewed_at)
    with ctx.uow() as session:
        plan = _scoped_plan(session, principal, plan_id, True)
        review = PlanReview(
            plan_id=plan.id, reviewer_id=principal.user_id, reviewed_at=reviewed_at, notes=body.notes
        )
        session.add(review)
        plan.last_reviewed_at = reviewed_at
        _refresh_due_date(plan, day.timezone)
        session.flush()
        plan_events.plan_reviewed(session, ctx.clock, plan, principal)
        session.flush()
        session.refresh(plan)
        recorded = ReviewOut(
            id=review.id,
            plan_id=review.plan_id,
            reviewer_id=review.reviewer_id,
            reviewed_at=review.reviewed_at,
            notes=review.notes,
            plan=PlanOut.build(plan, day.today),
        )
    invalidate_pending_review(ctx, principal.organization_id)
    return recorded


# ---- pending review ----


def invalidate_pending_review(ctx: Context, organization_id: uuid.UUID) -> None:
    """After a committed write that shows in the list (a plan, a student's name): every cached page of
    the organization becomes unreachable (O(1))."""
    ctx.cache.bump_generation(pending_review_namespace(organization_id))


def _pending_review_page(
    ctx: Context, filters: PendingReviewFilters, day: LocalDay, page: PageRequest
) -> str:
    """One page of the list, read from the database, as ``PlanPage`` JSON."""
    with ctx.uow() as session:
        plans, total = repository.pending_review_page(session, ctx.caller, filters, day, page)
        items = [PlanOut.build(plan, day.today, student_name) for plan, student_name in plans]
    return PlanPage.of(items, total, page.skip, page.limit).model_dump_json()


def pending_review(ctx: Context, query: PendingReviewQuery) -> tuple[str, CacheStatus]:
    """The page as JSON text (``PlanPage``), and whether it came from the cache.

    Text, not a model: a cache HIT is answered with the bytes Redis holds, never parsed and validated
    again (they were written from a validated ``PlanPage``); a MISS stores and answers the same text.
    """
    principal = ctx.caller
    query.filters.authorize(principal)
    day = organizations.local_day(ctx, principal.organization_id)

    def build() -> str:
        return _pending_review_page(ctx, query.filters, day, query.page)

    namespace = pending_review_namespace(principal.organization_id)
    generation = ctx.cache.generation(namespace) if query.use_cache else None
    if generation is None:
        return build(), CacheStatus.BYPASS
    key = pending_review_cache_key(principal, query.filters, day.today, generation, query.page)
    ttl = with_jitter(ctx.settings.pending_review_cache_ttl, ctx.settings.cache_ttl_jitter_ratio)
    return ctx.cache.read_through(key, build, ttl)
