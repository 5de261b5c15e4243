"""Request and response models of the users API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema, field_validator

from eduautismo.api.contract import DEFAULT_PAGE_LIMIT, Page, PartialUpdate
from eduautismo.api.model import ApiModel
from eduautismo.domain import NotificationType, Role


@dataclass(frozen=True, slots=True)
class UserQuery:
    """GET /users: an optional role, and the page."""

    role: Role | None = None
    skip: int = 0
    limit: int = DEFAULT_PAGE_LIMIT


class UserOut(ApiModel):
    """A user of the caller's organization, as a front end needs it to offer professionals to assign."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    email: str
    role: Role


# One page of users: ``{items, total, skip, limit, has_more}``.
UserPage = Page[UserOut]


class EmailDigest(StrEnum):
    OFF = "off"
    DAILY = "daily"
    WEEKLY = "weekly"


def _mutable(value: NotificationType) -> NotificationType:
    if value is NotificationType.SYSTEM:
        raise ValueError("system notifications cannot be muted")
    return value


# The document lists the types that can be muted (every one but system).
MutableType = Annotated[
    NotificationType,
    AfterValidator(_mutable),
    WithJsonSchema(
        {
            "type": "string",
            "title": "MutableNotificationType",
            "enum": [kind.value for kind in NotificationType if kind is not NotificationType.SYSTEM],
        }
    ),
]


DigestHour = Annotated[int, Field(ge=0, le=23, description="Hour of the email digest, organization timezone")]
DigestWeekday = Annotated[int, Field(ge=1, le=7, description="Weekday of a weekly digest (1 = Monday)")]
MutedTypes = Annotated[
    list[MutableType],
    Field(
        max_length=len(NotificationType), description="Types that create no in-app notification (not system)"
    ),
]


class Preferences(ApiModel):
    """A user's reminder preferences (the defaults until they change one)."""

    model_config = ConfigDict(from_attributes=True)

    email_digest: EmailDigest = EmailDigest.DAILY
    digest_hour: DigestHour = 7
    digest_weekday: DigestWeekday = 1
    muted_types: MutedTypes = Field(default_factory=list)


class PreferencesUpdate(PartialUpdate):
    """Every field optional (unchanged when left out); null and unknown fields are refused."""

    min_fields = 1

    email_digest: EmailDigest | None = None
    digest_hour: DigestHour | None = None
    digest_weekday: DigestWeekday | None = None
    muted_types: MutedTypes | None = None

    @field_validator("digest_hour", "digest_weekday", mode="before")
    @classmethod
    def _json_integer(cls, value: object) -> object:
        """A JSON integer (7, or 7.0 as JSON Schema allows); true/false or "7" are not hours."""
        if isinstance(value, bool | str):
            raise ValueError("must be an integer")
        return value
