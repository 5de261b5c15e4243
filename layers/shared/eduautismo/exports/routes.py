"""HTTP routes of the exports function: translate requests into service calls, nothing more."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from eduautismo.api.app import current_principal
from eduautismo.clock import Clock, SystemClock
from eduautismo.db.engine import session_scope
from eduautismo.domain import ExportFormat
from eduautismo.exports.dispatch import dispatcher_from_settings
from eduautismo.exports.service import ExportAccepted, ExportRequest, ExportService
from eduautismo.exports.storage import get_export_storage
from eduautismo.plans.pending_review import PendingReviewFilters

router = APIGatewayHttpRouter()

# The clock adapter (tests substitute it).
clock: Clock = SystemClock()


class ExportQuery(PendingReviewFilters):
    """The query string of an export: the pending-review filters (no paging: an export holds every
    matching plan) and the export's own options."""

    include_student: bool = Field(default=False, description="Add the Aluno column (student's name)")
    delimiter: Literal[",", ";"] = Field(default=",", description="CSV delimiter; ; for pt-BR Excel")
    redirect: bool = Field(default=False, description="303 to the download link instead of JSON")

    def filters(self) -> PendingReviewFilters:
        return PendingReviewFilters(
            **{name: getattr(self, name) for name in PendingReviewFilters.model_fields}
        )


def export_service() -> ExportService:
    return ExportService(session_scope, get_export_storage(), clock)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _export(export_format: ExportFormat, query: ExportQuery) -> Response[Any]:
    request = ExportRequest(
        export_format=export_format,
        filters=query.filters(),
        include_student=query.include_student,
        delimiter=query.delimiter,
    )
    service = export_service()
    outcome = service.start(current_principal(router), request, dispatcher_from_settings(service.run_job))
    if isinstance(outcome, ExportAccepted):
        return _json(202, outcome.as_json(), {"Location": outcome.status_url})
    if query.redirect:
        return Response(
            status_code=303, headers={"Location": outcome.download_url, "Cache-Control": "no-store"}
        )
    return _json(200, outcome.as_json())


@router.get("/export/pending-review/summary", summary="What an export would hold", tags=["exports"])
def export_summary(filters: Annotated[PendingReviewFilters, Query()]) -> Response[Any]:
    return _json(200, export_service().summary(current_principal(router), filters))


@router.get("/export/pending-review/csv", summary="Export pending reviews as CSV", tags=["exports"])
def export_csv(query: Annotated[ExportQuery, Query()]) -> Response[Any]:
    return _export(ExportFormat.CSV, query)


@router.get("/export/pending-review/excel", summary="Export pending reviews as XLSX", tags=["exports"])
def export_excel(query: Annotated[ExportQuery, Query()]) -> Response[Any]:
    return _export(ExportFormat.XLSX, query)


@router.get("/export/jobs/<job_id>", summary="Status of an asynchronous export", tags=["exports"])
def export_job(job_id: uuid.UUID) -> Response[Any]:
    return _json(200, export_service().job_status(current_principal(router), job_id))
