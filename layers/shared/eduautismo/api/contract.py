"""The typed contract every feature declares on its routes: the error envelope, the page shape,
and the ``responses=`` table of error statuses an operation can answer.

A feature's ``routes.py`` declares, per operation, its success model (the return annotation, or
``Response[Model]``), its success status (``status_code=``) and everything else it can answer
(``responses=responses(200, 404, 409)``); ``responses`` adds the statuses every authenticated call can
answer (``AUTHENTICATED_ERRORS``). The resolver (``api.app.create_app``) drops ``BODY_ERRORS`` from the
operations of methods whose body the Lambda entry ignores (GET, HEAD).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from eduautismo.api.model import ApiModel
from eduautismo.domain import MAX_DATE, MAX_PAGE_OFFSET, MIN_DATE

ItemT = TypeVar("ItemT")

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_text(value: Any) -> Any:
    """Dates arrive as YYYY-MM-DD text: pydantic would also read "0", 1700000000 or 0 as Unix times
    (fuzzing). Date objects (built in code, never from JSON) pass."""
    if isinstance(value, date) or (isinstance(value, str) and ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("expected a date as YYYY-MM-DD")


def _date_range_schema(schema: dict[str, Any]) -> None:
    """JSON Schema has no bounds for dates: pydantic writes ge/le, keywords no validator or generator knows
    (a TypeScript client saw them as unknown); the year's pattern documents the range instead."""
    schema.pop("ge", None)
    schema.pop("le", None)
    schema["pattern"] = r"^(19[0-9]{2}|20[0-9]{2}|2100)-"
    schema["description"] = "1900-01-01 to 2100-12-31"


# Every date the API takes (query or body) lies in the range of README "Input bounds": outside it is a
# 422 naming the field.
BoundedDate = Annotated[
    date,
    BeforeValidator(_iso_date_text),
    Field(ge=MIN_DATE, le=MAX_DATE, json_schema_extra=_date_range_schema),
]


# A short required text (a plan's title, a student's name): the surrounding whitespace is dropped and
# something must remain; the pattern tells clients so (" " or "\r" alone is refused).
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")
]


# The paging query parameters of every list: skip >= 0, limit 1-200, default 50.
DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 200
PageSkip = Annotated[int, Query(ge=0, le=MAX_PAGE_OFFSET, description="Offset of the page")]
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_LIMIT, description="Page size (1-200)")]


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Which page of a list: the ``skip``/``limit`` a route received as ``PageSkip``/``PageLimit``."""

    skip: int = 0
    limit: int = DEFAULT_PAGE_LIMIT


def _without_null(properties: dict[str, Any], names: set[str]) -> None:
    for name in names:
        schema = properties.get(name, {})
        branches = [branch for branch in schema.pop("anyOf", []) if branch.get("type") != "null"]
        if len(branches) == 1:
            schema.update(branches[0])
        elif branches:
            schema["anyOf"] = branches
        schema.pop("default", None)


def _partial_update_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    clearable: frozenset[str] = getattr(model, "clearable", frozenset())
    properties = schema.get("properties", {})
    _without_null(properties, set(properties) - clearable)
    min_fields: int = getattr(model, "min_fields", 0)
    if min_fields:
        schema["minProperties"] = min_fields


class PartialUpdate(ApiModel):
    """A PATCH body: every field may be left out (unchanged); a field sent is changed; null is refused
    with a 422 naming the field, except for the fields in ``clearable``; at least ``min_fields`` fields.
    The document says so: only the clearable fields are nullable (a generated client never sends null
    where the API refuses it) and ``minProperties`` holds the minimum."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_partial_update_schema)
    clearable: ClassVar[frozenset[str]] = frozenset()
    min_fields: ClassVar[int] = 0

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("may not be null")
        return value

    @model_validator(mode="after")
    def _enough_fields(self) -> Self:
        if len(self.model_fields_set) < self.min_fields:
            raise ValueError(f"send at least {self.min_fields} of {', '.join(type(self).model_fields)}")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, with their values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ErrorDetail(ApiModel):
    """One problem with the request; validation errors name the field and where it was."""

    field: str = Field(description="The offending field (dotted path), or 'body'")
    location: str | None = Field(default=None, description="query, path, body or header")
    message: str
    type: str | None = Field(default=None, description="Machine-readable kind, e.g. 'enum', 'date_too_late'")


class ErrorCode(StrEnum):
    """Every ``error.code`` the API sends (a client can switch over them exhaustively)."""

    BAD_REQUEST = "bad_request"
    VALIDATION_ERROR = "validation_error"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    QUOTA_EXCEEDED = "quota_exceeded"
    RATE_LIMITED = "rate_limited"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INTERNAL_ERROR = "internal_error"


class ErrorBody(ApiModel):
    code: ErrorCode
    message: str
    details: list[ErrorDetail]


class ErrorEnvelope(ApiModel):
    """Every error answer: never a stack trace."""

    error: ErrorBody


def error_envelope(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    """The body of every error answer (``ErrorEnvelope``), as JSON data: the one place it is built."""
    return {"error": {"code": code, "message": message, "details": details or []}}


class Page(ApiModel, Generic[ItemT]):
    """One page of a list: ``{items, total, skip, limit, has_more}``."""

    model_config = ConfigDict(from_attributes=True)

    items: list[ItemT]
    total: int = Field(ge=0)
    skip: int = Field(ge=0)
    limit: int = Field(ge=1)
    has_more: bool

    @classmethod
    def of(cls, items: list[ItemT], total: int, skip: int, limit: int, **fields: Any) -> Self:
        """The page of ``items`` found at ``skip`` among ``total`` matches; more follow when the items do
        not reach the total. ``fields``: those a subclass adds."""
        has_more = skip + len(items) < total
        return cls(items=items, total=total, skip=skip, limit=limit, has_more=has_more, **fields)


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request",
    401: "Missing or invalid token",
    403: "The caller's role may not do this",
    404: "Not found, or outside the caller's scope",
    409: "Conflicts with existing data, or the first request with this Idempotency-Key is still running",
    413: "Body larger than 1 MiB",
    415: "Body is not application/json",
    422: "Invalid input (the details name each field)",
    429: "Rate limit or export quota exceeded: retry after Retry-After seconds",
    503: "A dependency is unavailable; try again shortly",
}

# What any authenticated operation can answer, whatever it does (BODY_ERRORS only when it takes a body).
AUTHENTICATED_ERRORS = (401, 403, 413, 415, 422, 503)

# What only a request body can cause: the Lambda entry's guard (api.app.refuse_unreadable_body). HTTP gives
# the body of a GET or HEAD no meaning: the entry drops it unread, so their operations never answer these.
BODY_ERRORS = frozenset({413, 415})
BODILESS_METHODS = frozenset({"GET", "HEAD"})


def takes_body(methods: str | list[str] | tuple[str, ...]) -> bool:
    """Whether a request of one of ``methods`` has its body read (any method but GET and HEAD)."""
    names = (methods,) if isinstance(methods, str) else methods
    return any(name.upper() not in BODILESS_METHODS for name in names)


def for_methods(
    declared: dict[int, Any] | None, methods: str | list[str] | tuple[str, ...]
) -> dict[int, Any] | None:
    """An operation's ``responses=`` as its methods can answer: without BODY_ERRORS when none of them has
    its body read."""
    if declared is None or takes_body(methods):
        return declared
    return {status: response for status, response in declared.items() if status not in BODY_ERRORS}


SUCCESS_DESCRIPTIONS: dict[int, str] = {
    200: "OK",
    201: "Created",
    202: "Accepted: running in the background",
    204: "Done; no body",
    303: "See Other: the Location header holds the link",
    304: "Not Modified: the ETag sent in If-None-Match is still current",
}


def json_response(description: str, model: type[BaseModel]) -> dict[str, Any]:
    """A ``responses=`` entry whose body is ``model``."""
    return {"description": description, "content": {"application/json": {"model": model}}}


def empty_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``responses=`` entry with no body (204, 303, 304)."""
    return {"description": description, "content": {}, **({"headers": headers} if headers else {})}


def header(description: str, **schema: Any) -> dict[str, Any]:
    """A response header's declaration; a string of at most 8 KiB unless ``schema`` says otherwise."""
    return {"description": description, "schema": {"type": "string", "maxLength": 8192, **schema}}


ETAG = {"ETag": header("Strong tag of this answer: send it back in If-None-Match", maxLength=100)}
X_CACHE = {"X-Cache": header("Where the page came from", enum=["HIT", "MISS", "BYPASS"])}
LOCATION = {"Location": header("Where to go next: the download link, or the job's status route")}
# ?redirect=true on an export: 303 to the download link, no body.
SEE_OTHER_LINK = {303: empty_response("redirect=true: the Location header holds the download link", LOCATION)}


def error_responses(*statuses: int, authenticated: bool = True) -> dict[int, Any]:
    """The ``responses=`` entries of an operation's error statuses, each with the envelope schema."""
    codes = sorted({*statuses, *(AUTHENTICATED_ERRORS if authenticated else ())})
    return {status: json_response(ERROR_DESCRIPTIONS[status], ErrorEnvelope) for status in codes}


def responses(
    status: int = 200,
    *errors: int,
    authenticated: bool = True,
    extra: dict[int, Any] | None = None,
    headers: dict[str, Any] | None = None,
) -> dict[int, Any]:
    """Everything an operation can answer, for ``@router.get(..., status_code=status, responses=...)``.

    ``status`` is the main success: its body is the route's return annotation (``Response[Model]``), or
    none for 204. ``errors`` are the statuses beyond ``AUTHENTICATED_ERRORS``; ``extra`` adds other
    successes (a 202 job, a 303 redirect, a 304 revalidation) built with ``json_response`` or
    ``empty_response``; ``headers`` are those the main success sends (``ETAG``, ``X_CACHE``).
    """
    main: dict[str, Any] = {
        "description": SUCCESS_DESCRIPTIONS[status],
        **({"headers": headers} if headers else {}),
    }
    if status == 204:
        main = empty_response(SUCCESS_DESCRIPTIONS[status])
    return {status: main, **(extra or {}), **error_responses(*errors, authenticated=authenticated)}
