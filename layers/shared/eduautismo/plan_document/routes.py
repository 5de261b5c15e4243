"""HTTP route of the plan document (PlansFunction): translate the request into the service call."""

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import responses
from eduautismo.api.dependencies import Ctx
from eduautismo.api.links import LINK_OR_REDIRECT, link_or_redirect
from eduautismo.exports.schemas import ExportLink
from eduautismo.plan_document import service
from eduautismo.plan_document.schemas import PlanDocumentRequest

router = APIGatewayHttpRouter()

IncludeArchived = Annotated[bool, Query(description="Also list the student's archived plans")]
Redirect = Annotated[bool, Query(description="303 to the download link instead of 200")]

DESCRIPTION = (
    "The student's intervention plans as a PDF (A4, pt-BR) for meetings with families and the student's "
    "file: the organization and the student, each plan (active first) with its fields, its next review "
    "(overdue in red) and its 50 newest reviews, a chart of the reviews per month over the last 12 months "
    "(on time / late, as the compliance report grades them), page numbers and a confidentiality line. "
    "A coordinator gets every plan of the student; a professional only their own plans, of a student in "
    "their caseload (any other student: 404). Stored encrypted in S3 under a random key; the presigned "
    "link expires after EXPORT_URL_TTL_SECONDS. Audited in export_jobs (format pdf) and counted in the "
    "caller's daily export quota (429 beyond it); 409 when the student was erased while it was being "
    "written. `row_count`: the plans in the document."
)


@router.get(
    "/students/<student_id>/plan-document",
    responses=responses(200, 404, 409, 429, extra=LINK_OR_REDIRECT),
    summary="The student's plan document (PEI) as a PDF behind a presigned link",
    description=DESCRIPTION,
    tags=["students", "exports"],
)
def plan_document(
    student_id: uuid.UUID,
    ctx: Ctx,
    include_archived: IncludeArchived = False,
    redirect: Redirect = False,
) -> Response[ExportLink | None]:
    request = PlanDocumentRequest(student_id=student_id, include_archived=include_archived)
    link = service.create_plan_document(ctx, request)
    return link_or_redirect(link, redirect)
