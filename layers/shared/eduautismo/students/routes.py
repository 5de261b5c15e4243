"""HTTP routes of the students (PlansFunction): translate requests into service calls, nothing more."""

import uuid

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import DEFAULT_PAGE_LIMIT, Page, PageLimit, PageQuery, PageSkip, responses
from eduautismo.api.dependencies import Ctx
from eduautismo.exports.schemas import ExportLink
from eduautismo.students import service
from eduautismo.students.schemas import StudentCreate, StudentOut, StudentUpdate

router = APIGatewayHttpRouter()

ERASE_DESCRIPTION = (
    "Erases the student, their intervention plans, the plans' reviews and the notifications about those "
    "plans, in one transaction (LGPD Art. 18, VI). What remains is an audit row in `student_erasures`: who "
    "erased which student id, when, and how many rows of each kind (no name, no health detail). In the "
    "same request, the S3 files of every export that may hold the student (the exports naming the student, "
    "and every export of the organization without a student filter made since the student was created, "
    "whatever its kind) are deleted and their jobs marked `expired`: no link to them is ever minted again "
    "and links minted earlier stop working. Storage not answering is 503 and nothing is erased. The "
    "`export_jobs` audit rows are kept as the export trail (they hold ids and filters, no name). Answers "
    "204 with no body; a second DELETE is 404."
)


@router.post(
    "/students",
    status_code=201,
    responses=responses(201),
    summary="Create a student (coordinators)",
    tags=["students"],
)
def create_student(body: StudentCreate, ctx: Ctx) -> StudentOut:
    return service.create_student(ctx, body)


@router.get(
    "/students", responses=responses(200), summary="Students in the caller's scope", tags=["students"]
)
def list_students(ctx: Ctx, skip: PageSkip = 0, limit: PageLimit = DEFAULT_PAGE_LIMIT) -> Page[StudentOut]:
    return service.list_students(ctx, PageQuery(skip, limit))


@router.get("/students/<student_id>", responses=responses(200, 404), summary="One student", tags=["students"])
def get_student(student_id: uuid.UUID, ctx: Ctx) -> StudentOut:
    return service.get_student(ctx, student_id)


@router.patch(
    "/students/<student_id>",
    responses=responses(200, 404),
    summary="Correct a student's record (coordinators)",
    description=(
        "LGPD correction. Only the fields sent change; `birth_date: null` clears the birth date. Pages of "
        "the pending-review list that name the student show the correction at once."
    ),
    tags=["students"],
)
def update_student(student_id: uuid.UUID, body: StudentUpdate, ctx: Ctx) -> StudentOut:
    return service.update_student(ctx, student_id, body)


@router.delete(
    "/students/<student_id>",
    status_code=204,
    responses=responses(204, 404),
    summary="Erase a student and everything about them (coordinators)",
    description=ERASE_DESCRIPTION,
    tags=["students"],
)
def erase_student(student_id: uuid.UUID, ctx: Ctx) -> Response[None]:
    service.erase_student(ctx, student_id)
    return Response(204)


@router.get(
    "/students/<student_id>/data-export",
    responses=responses(200, 404, 409, 429),
    summary="Everything held about a student, as a JSON file behind a link (coordinators)",
    description=(
        "LGPD access and portability: one JSON document with the student, every plan with its review "
        "history, the notifications about those plans (recipient by id only) and the export audit rows "
        "that included or may have included the student. Stored encrypted in S3 under a random key; the "
        "presigned link expires after EXPORT_URL_TTL_SECONDS and the file after one day. Audited in "
        "export_jobs (format json) and counted in the caller's daily export quota."
    ),
    tags=["students"],
)
def export_student_data(student_id: uuid.UUID, ctx: Ctx) -> ExportLink:
    return service.export_student_data(ctx, student_id)
