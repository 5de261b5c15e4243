"""Response models of the users API."""

from __future__ import annotations

import uuid

from pydantic import ConfigDict

from eduautismo.api.contract import Page
from eduautismo.api.model import ApiModel
from eduautismo.domain import Role


class UserOut(ApiModel):
    """A user of the caller's organization, as a front end needs it to offer professionals to assign."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    email: str
    role: Role


# One page of users: ``{items, total, skip, limit, has_more}``.
UserPage = Page[UserOut]
