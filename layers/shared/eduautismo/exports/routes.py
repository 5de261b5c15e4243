"""HTTP routes of the exports function: translate requests into service calls, nothing more."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict

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


class ExportOptions(BaseModel):
    """Query options of an export besides the pending-review filters."""

    model_config = ConfigDict(frozen=True)

    include_student: bool = False
    delimiter: Literal[",", ";"] = ","
    redirect: bool = False


def export_service() -> ExportService:
    return ExportService(session_scope, get_export_storage(), clock)


def _query() -> dict[str, str]:
    return dict(router.current_event.query_string_parameters or {})


def _filters(query: dict[str, str]) -> PendingReviewFilters:
    """The pending-review filters of DESIGN §4 from the query string (paging does not apply to exports);
    a wrong type, enum or UUID is a 422."""
    return PendingReviewFilters.model_validate(
        {name: value for name, value in query.items() if name in PendingReviewFilters.model_fields}
    )


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _export(export_format: ExportFormat) -> Response[Any]:
    query = _query()
    options = ExportOptions.model_validate(
        {name: value for name, value in query.items() if name in ExportOptions.model_fields}
    )
    request = ExportRequest(
        export_format=export_format,
        filters=_filters(query),
        include_student=options.include_student,
        delimiter=options.delimiter,
    )
    service = export_service()
    outcome = service.start(current_principal(router), request, dispatcher_from_settings(service.run_job))
    if isinstance(outcome, ExportAccepted):
        return _json(202, outcome.as_json(), {"Location": outcome.status_url})
    if options.redirect:
        return Response(
            status_code=303, headers={"Location": outcome.download_url, "Cache-Control": "no-store"}
        )
    return _json(200, outcome.as_json())


@router.get("/export/pending-review/summary", summary="What an export would hold", tags=["exports"])
def export_summary() -> Response[Any]:
    return _json(200, export_service().summary(current_principal(router), _filters(_query())))


@router.get("/export/pending-review/csv", summary="Export pending reviews as CSV", tags=["exports"])
def export_csv() -> Response[Any]:
    return _export(ExportFormat.CSV)


@router.get("/export/pending-review/excel", summary="Export pending reviews as XLSX", tags=["exports"])
def export_excel() -> Response[Any]:
    return _export(ExportFormat.XLSX)


@router.get("/export/jobs/<job_id>", summary="Status of an asynchronous export", tags=["exports"])
def export_job(job_id: uuid.UUID) -> Response[Any]:
    return _json(200, export_service().job_status(current_principal(router), job_id))
