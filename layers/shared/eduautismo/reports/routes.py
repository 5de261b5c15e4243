"""HTTP routes of the reports function: translate requests into service calls, nothing more."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import BoundedDate, responses
from eduautismo.api.dependencies import Ctx
from eduautismo.api.links import LINK_OR_REDIRECT, link_or_redirect
from eduautismo.exports.schemas import ExportLink
from eduautismo.reports import service
from eduautismo.reports.schemas import ComplianceQuery, ComplianceReport

router = APIGatewayHttpRouter()

# Declared one by one (not as a query model) so the document gives each its date format and bounds.
DateFrom = Annotated[
    BoundedDate | None,
    Query(description="First day of the period, local (default: 89 days before date_to)"),
]
DateTo = Annotated[BoundedDate | None, Query(description="Last day of the period, local (default: today)")]
Redirect = Annotated[bool, Query(description="303 to the download link instead of 200")]


@router.get(
    "/reports/review-compliance",
    responses=responses(200),
    summary="Review compliance per responsible professional",
    tags=["reports"],
)
def review_compliance(ctx: Ctx, date_from: DateFrom = None, date_to: DateTo = None) -> ComplianceReport:
    return service.review_compliance(ctx, ComplianceQuery(date_from=date_from, date_to=date_to))


@router.get(
    "/export/review-compliance/excel",
    responses=responses(200, 409, 429, extra=LINK_OR_REDIRECT),
    summary="The compliance report as an XLSX sheet behind a presigned link",
    tags=["reports", "exports"],
)
def export_review_compliance(
    ctx: Ctx,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    redirect: Redirect = False,
) -> Response[ExportLink | None]:
    query = ComplianceQuery(date_from=date_from, date_to=date_to)
    link = service.export_review_compliance(ctx, query)
    return link_or_redirect(link, redirect)
