"""The daily job's use cases: each statement runs in its own short transaction (``with ctx.uow()``), so a
timeout or crash keeps what was done and the next run resumes. "Now" is the context's clock: the handler
fixes it to the scheduled event's time (README "Reminders")."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock, local_today
from eduautismo.context import Context
from eduautismo.domain import NotificationType
from eduautismo.jobs import repository
from eduautismo.jobs.schemas import (
    ALREADY_EXPIRED,
    PLANS_SCANNED,
    DailyJobRequest,
    DailyJobSummary,
    OrganizationDay,
)


def run_daily_job(ctx: Context, request: DailyJobRequest) -> DailyJobSummary:
    """Every organization's reminders for its local day, then the cleanup, all at one instant."""
    started = time.perf_counter()
    # One "now" for the whole run, whatever clock the context came with.
    ctx = dataclasses.replace(ctx, clock=FixedClock(ctx.clock.now()))
    now = ctx.clock.now()
    summary = DailyJobSummary()
    with ctx.uow() as session:
        organizations = repository.organizations(session)
    for organization_id, timezone in organizations:
        counts = remind_organization(ctx, OrganizationDay(organization_id, local_today(now, timezone)))
        summary.organizations += 1
        summary.plans_scanned += counts.pop(PLANS_SCANNED, 0)
        summary.already_expired += counts.pop(ALREADY_EXPIRED, 0)
        for notification_type, created in counts.items():
            summary.created_by_type[notification_type] += created
    summary.deleted = cleanup(ctx)
    summary.duration_ms = round((time.perf_counter() - started) * 1000)
    return summary


def remind_organization(ctx: Context, day: OrganizationDay) -> Counter[str]:
    """Reminders of one organization for its local ``today``: counts of plans scanned and rows created."""
    batch_size = ctx.settings.daily_job_plan_batch_size
    parameters = repository.reminder_parameters(ctx.settings, day, ctx.clock.now())
    with ctx.uow() as session:
        counts, summarised = repository.write_summaries(session, parameters)
    parameters["summarised_due_soon"] = summarised[NotificationType.REVIEW_DUE_SOON.value]
    parameters["summarised_overdue"] = summarised[NotificationType.REVIEW_OVERDUE.value]
    after_plan_id: uuid.UUID | None = None
    while True:
        with ctx.uow() as session:
            batch = repository.remind_batch(session, parameters, after_plan_id)
        scanned = 0
        for counter, amount, last_plan_id in batch:
            counts[str(counter)] += int(amount)
            if counter == PLANS_SCANNED:
                scanned, after_plan_id = int(amount), last_plan_id
        if scanned < batch_size:
            return counts


def cleanup(ctx: Context) -> int:
    """Delete expired notifications, and read ones older than the retention period; unread unexpired stay."""
    now = ctx.clock.now()
    read_before = now - timedelta(days=ctx.settings.notification_retention_days)
    expired = _delete_in_batches(ctx, lambda session, size: repository.delete_expired(session, now, size))
    read = _delete_in_batches(
        ctx, lambda session, size: repository.delete_read_before(session, read_before, size)
    )
    return expired + read


def _delete_in_batches(ctx: Context, delete_batch: Callable[[Session, int], int]) -> int:
    """One short transaction per batch, so a timeout or crash keeps what was done and the next run resumes."""
    batch_size = ctx.settings.notification_cleanup_batch_size
    deleted = 0
    while True:
        with ctx.uow() as session:
            count = delete_batch(session, batch_size)
        deleted += count
        if count < batch_size:
            return deleted
