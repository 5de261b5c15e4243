"""Request and response models of the users API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import ConfigDict

from eduautismo.api.contract import DEFAULT_PAGE_LIMIT, Page
from eduautismo.api.model import ApiModel
from eduautismo.domain import Role


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
