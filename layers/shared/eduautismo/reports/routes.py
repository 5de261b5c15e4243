"""HTTP routes of the reports function: translate requests into service calls, nothing more."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import empty_response, responses
from eduautismo.api.dependencies import CurrentClock, CurrentPrincipal, Sessions
from eduautismo.exports.storage import ExportStorage, get_export_storage
from eduautismo.reports import service
from eduautismo.reports.schemas import (
    ComplianceExportQuery,
    ComplianceQuery,
    ComplianceReport,
    ReportFileLink,
)

router = APIGatewayHttpRouter()

Storage = Annotated[ExportStorage, Depends(get_export_storage)]
NO_STORE = {"Cache-Control": "no-store"}


@router.get(
    "/reports/review-compliance",
    responses=responses(200),
    summary="Review compliance per responsible professional (DESIGN §9)",
    tags=["reports"],
)
def review_compliance(
    query: Annotated[ComplianceQuery, Query()],
    principal: CurrentPrincipal,
    clock: CurrentClock,
    sessions: Sessions,
) -> Response[ComplianceReport]:
    report = service.review_compliance(sessions, principal, clock, query)
    return Response(200, content_types.APPLICATION_JSON, report, headers=NO_STORE)


@router.get(
    "/export/review-compliance/excel",
    responses=responses(
        200, 429, extra={303: empty_response("See Other: the Location header holds the link")}
    ),
    summary="The compliance report as an XLSX sheet behind a presigned link",
    tags=["reports", "exports"],
)
def export_review_compliance(
    query: Annotated[ComplianceExportQuery, Query()],
    principal: CurrentPrincipal,
    clock: CurrentClock,
    sessions: Sessions,
    storage: Storage,
) -> Response[ReportFileLink]:
    link = service.export_review_compliance(sessions, storage, clock, principal, query.period_query())
    if query.redirect:
        return Response(303, headers={"Location": link.download_url, **NO_STORE})
    return Response(200, content_types.APPLICATION_JSON, link, headers=NO_STORE)
