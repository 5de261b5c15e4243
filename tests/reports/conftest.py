"""Fixtures of the reports feature: review histories, the report call, and S3 (moto) for the export."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from eduautismo.db.models import InterventionPlan, Organization, PlanReview
from eduautismo.domain import ReviewFrequency, next_review_due
from tests.exports.conftest import BUCKET, s3  # noqa: F401 - the exports' S3 fixture, reused
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor

REPORT = "/api/v1/reports/review-compliance"
EXCEL = "/api/v1/export/review-compliance/excel"


def record_reviews(
    engine: Engine, plan: InterventionPlan, reviewer: Actor, moments: Iterable[datetime]
) -> None:
    """Reviews of ``plan`` at ``moments``; its last review and due date follow, as the API keeps them."""
    with Session(engine) as session:
        session.add_all(
            PlanReview(plan_id=plan.id, reviewer_id=reviewer.user_id, reviewed_at=moment)
            for moment in moments
        )
        session.flush()
        last = session.scalar(select(func.max(PlanReview.reviewed_at)).where(PlanReview.plan_id == plan.id))
        timezone = session.scalar(
            select(Organization.timezone).where(Organization.id == plan.organization_id)
        )
        due = next_review_due(ReviewFrequency(plan.review_frequency), plan.start_date, last, str(timezone))
        session.execute(
            update(InterventionPlan)
            .where(InterventionPlan.id == plan.id)
            .values(last_reviewed_at=last, next_review_due=due)
        )
        session.commit()


def report(actor: Actor, **query: str) -> ApiResponse:
    return call_api("GET", REPORT, claims=actor.claims, query=query)


def export_excel(actor: Actor, **query: str) -> ApiResponse:
    return call_api("GET", EXCEL, claims=actor.claims, query=query)
