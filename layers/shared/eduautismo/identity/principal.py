"""The caller, built from the JWT claims that API Gateway's JWT authorizer put in the event (README.md,
"Architecture": identity)."""

from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eduautismo.domain import Role
from eduautismo.errors import Forbidden, Unauthorized

# Where the authentication middleware keeps the caller in the resolver context.
PRINCIPAL_KEY = "principal"

ORGANIZATION_CLAIM = "custom:organization_id"
ORGANIZATION_NAME_CLAIM = "custom:organization_name"
GROUPS_CLAIM = "cognito:groups"

# The users and organizations columns: a longer name is cut, a longer e-mail address is refused.
MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 320
# Unicode categories never kept in a text claim: control (NUL included), surrogate (a lone one cannot be
# encoded for the database driver), unassigned and private use.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs", "Cn", "Co"})


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
    """Groups arrive as a real list, as API Gateway's string form ``"[coordinator professional]"``
    (bracketed, space-separated) or as a JSON array in a string. Names are kept exactly as sent: the
    caller compares them with ``==``, so ``"teachers,coordinator"`` or ``"Coordinator"`` is no
    coordinator."""
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        return [group for group in raw if isinstance(group, str)]
    text = str(raw).strip()
    if text.startswith("["):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, list):
            return [group for group in document if isinstance(group, str)]
        if text.endswith("]"):
            text = text[1:-1]
    return text.split()


def clean_text_claim(raw: Any, max_chars: int) -> str:
    """A text claim as it may reach the database: control characters, NUL, lone surrogates and
    unassigned code points removed, whitespace runs made one space, cut to ``max_chars``."""
    if raw is None or not isinstance(raw, str | int | float):
        return ""
    kept = "".join(
        " " if char.isspace() else char
        for char in str(raw)
        if char.isspace() or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    return " ".join(kept.split())[:max_chars].rstrip()


def _email_claim(raw: Any) -> str:
    """The e-mail claim, or "" when absent. One that is over-long or not shaped ``local@domain.tld``
    (after cleaning) makes the token unusable: 401."""
    if raw is None or raw == "":
        return ""
    email = clean_text_claim(raw, MAX_EMAIL_CHARS + 1)
    local, at, domain = email.rpartition("@")
    if (
        len(email) > MAX_EMAIL_CHARS
        or not at
        or not local
        or "." not in domain.strip(".")
        or " " in email
        or email != str(raw)
    ):
        raise Unauthorized("missing or invalid token")
    return email


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
    email = _email_claim(claims.get("email"))
    return Principal(
        user_id=user_id,
        organization_id=organization_id,
        email=email,
        name=clean_text_claim(claims.get("name"), MAX_NAME_CHARS) or email or str(user_id),
        role=role,
        organization_name=clean_text_claim(claims.get(ORGANIZATION_NAME_CLAIM), MAX_NAME_CHARS) or None,
    )


# Unix seconds of the years 2000..2100: an "iat" outside them is no time a token was issued.
_IAT_BOUNDS = (946_684_800, 4_102_444_800)


def issued_at(claims: Mapping[str, Any] | None) -> datetime | None:
    """The token's ``iat`` claim (a string through the HTTP API), or None when absent or malformed."""
    raw = str((claims or {}).get("iat", ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    seconds = int(raw)
    return datetime.fromtimestamp(seconds, UTC) if _IAT_BOUNDS[0] <= seconds < _IAT_BOUNDS[1] else None


def claims_from_event(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    claims = jwt.get("claims")
    return claims if isinstance(claims, Mapping) else None


def subject_of(event: Mapping[str, Any]) -> uuid.UUID | None:
    """The token's subject as a UUID: None without claims (routes without login) or with a malformed one,
    which authentication refuses. Parsed once per request by the Lambda entry (rate limit, idempotency)."""
    try:
        return uuid.UUID(str((claims_from_event(event) or {}).get("sub")))
    except ValueError:
        return None
