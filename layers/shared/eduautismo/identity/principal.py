"""The caller, built from the JWT claims that API Gateway's JWT authorizer put in the event (DESIGN §2)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eduautismo.domain import Role
from eduautismo.errors import Forbidden, Unauthorized

# Where the authentication middleware keeps the caller in the resolver context.
PRINCIPAL_KEY = "principal"

ORGANIZATION_CLAIM = "custom:organization_id"
ORGANIZATION_NAME_CLAIM = "custom:organization_name"
GROUPS_CLAIM = "cognito:groups"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    name: str
    role: Role
    organization_name: str | None = None

    @property
    def is_coordinator(self) -> bool:
        return self.role is Role.COORDINATOR


def parse_groups(raw: Any) -> list[str]:
    """Groups arrive as a real list, or as API Gateway's string form ``"[coordinator professional]"``."""
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        return [str(group) for group in raw]
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [group.strip().strip('"') for group in text.replace(",", " ").split() if group.strip()]


def _uuid_claim(claims: Mapping[str, Any], name: str, missing: Exception) -> uuid.UUID:
    value = claims.get(name)
    if not value:
        raise missing
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise missing from None


def principal_from_claims(claims: Mapping[str, Any] | None) -> Principal:
    """401 without a usable subject; 403 without an organization or a known role group."""
    if not claims:
        raise Unauthorized("missing or invalid token")
    user_id = _uuid_claim(claims, "sub", Unauthorized("missing or invalid token"))
    organization_id = _uuid_claim(claims, ORGANIZATION_CLAIM, Forbidden("token has no organization"))
    groups = parse_groups(claims.get(GROUPS_CLAIM))
    if Role.COORDINATOR.value in groups:
        role = Role.COORDINATOR
    elif Role.PROFESSIONAL.value in groups:
        role = Role.PROFESSIONAL
    else:
        raise Forbidden("token has no coordinator or professional group")
    email = str(claims.get("email") or "")
    return Principal(
        user_id=user_id,
        organization_id=organization_id,
        email=email,
        name=str(claims.get("name") or email or user_id),
        role=role,
        organization_name=claims.get(ORGANIZATION_NAME_CLAIM) or None,
    )


def claims_from_event(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    claims = jwt.get("claims")
    return claims if isinstance(claims, Mapping) else None
