"""HTTP routes of the exports function: translate requests into service calls, nothing more."""

import dataclasses
import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import LOCATION, json_response, responses
from eduautismo.api.dependencies import Ctx
from eduautismo.api.links import LINK_OR_REDIRECT
from eduautismo.domain import ExportFormat
from eduautismo.exports import service
from eduautismo.exports.dispatch import ExportDispatcher, dispatcher_from_settings
from eduautismo.exports.schemas import (
    CsvExportQuery,
    ExportAccepted,
    ExportJobStatus,
    ExportLink,
    ExportQuery,
    ExportSelection,
    ExportSummary,
)
from eduautismo.exports.service import ExportRequest

router = APIGatewayHttpRouter()


def get_export_dispatcher(ctx: Ctx) -> ExportDispatcher:
    """Where a large export goes; the worker runs it with a context of its own (no caller: the job
    records its requester)."""
    worker_ctx = dataclasses.replace(ctx, principal=None)
    return dispatcher_from_settings(ctx.settings, lambda job_id: service.run_job(worker_ctx, job_id))


Dispatcher = Annotated[ExportDispatcher, Depends(get_export_dispatcher)]

# An export answers the link (200), a job to follow (202) or a redirect to the link (303): the main
# success is given its model here because the return annotation is the union of the three bodies.
EXPORT_RESPONSES = responses(
    200,
    409,
    429,
    extra={
        **LINK_OR_REDIRECT,
        202: {
            **json_response("Large export: running in the background; follow status_url", ExportAccepted),
            "headers": LOCATION,
        },
    },
)


def _export(
    export_format: ExportFormat, query: ExportQuery, ctx: Ctx, dispatcher: ExportDispatcher
) -> Response[ExportLink | ExportAccepted | None]:
    request = ExportRequest(
        export_format=export_format,
        filters=query.filters(),
        include_student=query.include_student,
        delimiter=query.delimiter if isinstance(query, CsvExportQuery) else ",",
        row_range=query.row_range(),
    )
    outcome = service.start(ctx, request, dispatcher)
    if isinstance(outcome, ExportAccepted):
        return Response(
            202, content_types.APPLICATION_JSON, outcome, headers={"Location": outcome.status_url}
        )
    if query.redirect:
        return Response(303, headers={"Location": outcome.download_url})
    return Response(200, content_types.APPLICATION_JSON, outcome)


@router.get(
    "/export/pending-review/summary",
    summary="What an export with the same query would hold",
    tags=["exports"],
    responses=responses(200),
)
def export_summary(selection: Annotated[ExportSelection, Query()], ctx: Ctx) -> ExportSummary:
    return service.summary(ctx, selection.filters(), selection.row_range())


@router.get(
    "/export/pending-review/csv",
    summary="Export pending reviews as CSV (UTF-8 with BOM)",
    tags=["exports"],
    responses=EXPORT_RESPONSES,
)
def export_csv(
    query: Annotated[CsvExportQuery, Query()], ctx: Ctx, dispatcher: Dispatcher
) -> Response[ExportLink | ExportAccepted | None]:
    return _export(ExportFormat.CSV, query, ctx, dispatcher)


@router.get(
    "/export/pending-review/excel",
    summary="Export pending reviews as XLSX",
    tags=["exports"],
    responses=EXPORT_RESPONSES,
)
def export_excel(
    query: Annotated[ExportQuery, Query()], ctx: Ctx, dispatcher: Dispatcher
) -> Response[ExportLink | ExportAccepted | None]:
    return _export(ExportFormat.XLSX, query, ctx, dispatcher)


@router.get(
    "/export/jobs/<job_id>",
    summary="Status of an export and, within the re-link window, a new link (its requester only)",
    description=(
        "Answers the job of the caller. A succeeded job carries a new presigned link only while the "
        "caller's current role covers the one the export was made with and within "
        "`EXPORT_RELINK_WINDOW_SECONDS` (default 3600) of its success; an export whose file was deleted "
        "because data it may hold was erased (status `expired`), a job out of the window, or one made "
        "with a wider scope than the caller's now, answers 404 like a missing job. The same rule holds "
        "for every export kind."
    ),
    tags=["exports"],
    responses=responses(200, 404),
)
def export_job(job_id: uuid.UUID, ctx: Ctx) -> ExportJobStatus:
    return service.job_status(ctx, job_id)
