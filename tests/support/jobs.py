"""The daily job as a test runs it: a job's context (no caller) with its clock fixed at the run's "now", as
the scheduled handler builds it from the event, and any setting replaced for the one run."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from eduautismo.clock import FixedClock
from eduautismo.context import Context, build_context
from eduautismo.jobs.schemas import DailyJobRequest, DailyJobSummary
from eduautismo.jobs.service import run_daily_job


def job_context(now: datetime, **settings: Any) -> Context:
    """``job_context(now, daily_job_plan_batch_size=2)``: this container's adapters, "now" fixed, and the
    named settings replaced in this context only."""
    ctx = build_context(clock=FixedClock(now))
    if not settings:
        return ctx
    return dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, **settings))


def run_daily_job_at(now: datetime, **settings: Any) -> DailyJobSummary:
    return run_daily_job(job_context(now, **settings), DailyJobRequest())
