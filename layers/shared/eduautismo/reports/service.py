"""Use cases of the review compliance report: the report itself and its Excel export, each
``verb(ctx, query)`` (docs/ARCHITECTURE.md).

Scope: a coordinator gets one item per responsible professional of the organization who has at least one
plan (any status); a professional gets exactly their own item of that report, so nothing when they hold
no plan. Reviews count for the plan's responsible professional at report time, whoever recorded them.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from eduautismo.context import Context
from eduautismo.domain import MIN_DATE, ExportFormat
from eduautismo.errors import InvalidInput
from eduautismo.exports import delivery
from eduautismo.exports.schemas import ExportLink
from eduautismo.organizations import service as organizations
from eduautismo.reports import repository
from eduautismo.reports.repository import ProfessionalCounts, ReportWindow
from eduautismo.reports.schemas import (
    DEFAULT_PERIOD_DAYS,
    ComplianceCounters,
    ComplianceItem,
    CompliancePeriod,
    ComplianceQuery,
    ComplianceReport,
)
from eduautismo.reports.workbook import write_compliance_workbook

RATE_DECIMALS = 4
DAYS_LATE_DECIMALS = 2
AUDIT_REPORT_NAME = "review_compliance"


def report_window(ctx: Context, query: ComplianceQuery) -> ReportWindow:
    """The period asked for, or the last 90 days up to today (today and the 89 days before it)."""
    day = organizations.local_day(ctx, ctx.caller.organization_id)
    today = day.today
    date_to = query.date_to or today
    date_from = query.date_from or max(MIN_DATE, date_to - timedelta(days=DEFAULT_PERIOD_DAYS - 1))
    if date_from > date_to:  # named after the date given last: date_to, or date_from when alone
        field = "date_to" if query.date_to else "date_from"
        raise InvalidInput.for_field(
            field, "date_to must be on or after date_from (date_to: today by default)"
        )
    return ReportWindow(
        date_from=date_from,
        date_to=date_to,
        today=today,
        due_horizon=day.due_horizon,
        timezone=day.timezone,
    )


def _rate(part: int, whole: int, decimals: int) -> float | None:
    return round(part / whole, decimals) if whole else None


def _counters(
    active_plans: int,
    overdue_now: int,
    due_soon: int,
    reviews_in_period: int,
    on_time_reviews: int,
    late_reviews: int,
    days_late: int,
) -> dict[str, int | float | None]:
    return {
        "active_plans": active_plans,
        "overdue_now": overdue_now,
        "due_soon": due_soon,
        "reviews_in_period": reviews_in_period,
        "on_time_reviews": on_time_reviews,
        "late_reviews": late_reviews,
        "on_time_rate": _rate(on_time_reviews, reviews_in_period, RATE_DECIMALS),
        "average_days_late": _rate(days_late, late_reviews, DAYS_LATE_DECIMALS),
    }


def _name_order(counts: ProfessionalCounts) -> tuple[str, str, str]:
    """By name as people read it (accents and case aside, whatever the database collation), then id."""
    folded = "".join(
        char
        for char in unicodedata.normalize("NFKD", counts.professional_name)
        if not unicodedata.combining(char)
    ).casefold()
    return folded, counts.professional_name, str(counts.professional_id)


def _build_report(rows: list[ProfessionalCounts], window: ReportWindow) -> ComplianceReport:
    items = [
        ComplianceItem(
            professional_id=row.professional_id,
            professional_name=row.professional_name,
            **_counters(
                row.active_plans,
                row.overdue_now,
                row.due_soon,
                row.reviews_in_period,
                row.on_time_reviews,
                row.late_reviews,
                row.days_late,
            ),
        )
        for row in sorted(rows, key=_name_order)
    ]
    totals = ComplianceCounters(
        **_counters(
            sum(row.active_plans for row in rows),
            sum(row.overdue_now for row in rows),
            sum(row.due_soon for row in rows),
            sum(row.reviews_in_period for row in rows),
            sum(row.on_time_reviews for row in rows),
            sum(row.late_reviews for row in rows),
            sum(row.days_late for row in rows),
        )
    )
    period = CompliancePeriod(date_from=window.date_from, date_to=window.date_to, timezone=window.timezone)
    return ComplianceReport(period=period, totals=totals, items=items)


def _compute(ctx: Context, window: ReportWindow) -> ComplianceReport:
    with ctx.uow() as session:
        return _build_report(repository.professional_counts(session, ctx.caller, window), window)


def review_compliance(ctx: Context, query: ComplianceQuery) -> ComplianceReport:
    return _compute(ctx, report_window(ctx, query))


def _export_filename(local_now: datetime) -> str:
    return f"conformidade_revisoes_{local_now:%Y%m%d_%H%M%S}.xlsx"


def export_review_compliance(ctx: Context, query: ComplianceQuery) -> ExportLink:
    """The report as a formatted sheet behind a presigned link: an export like any other, counted in the
    daily quota and recorded in export_jobs (the request row holds the report's name and period)."""
    now = ctx.clock.now()
    window = report_window(ctx, query)
    request = {
        "report": AUDIT_REPORT_NAME,
        "date_from": window.date_from.isoformat(),
        "date_to": window.date_to.isoformat(),
    }
    with ctx.uow() as session:
        job_id = delivery.open_job(ctx, session, ExportFormat.XLSX, request, window.timezone)
    local_now = now.astimezone(ZoneInfo(window.timezone))

    def write(path: Path) -> int:
        report = _compute(ctx, window)
        write_compliance_workbook(report, path, local_now)
        return len(report.items)

    return delivery.deliver_file(ctx, job_id, ExportFormat.XLSX, _export_filename(local_now), write)
