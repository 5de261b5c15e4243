"""Just-in-time provisioning of the caller's organization and user from the claims."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from eduautismo import resettable
from eduautismo.domain import UserStatus
from eduautismo.errors import Forbidden, Unauthorized
from eduautismo.identity import repository
from eduautismo.identity.principal import Principal

# What this container last wrote for each user, and when (monotonic seconds): a warm request whose claims
# are exactly those skips the round trip. Keyed by the user, so any change of role, name or e-mail (a
# demotion back to a role written earlier included) is written; expiring, so a change written by another
# container is corrected here within PROVISIONED_MEMO_SECONDS.
PROVISIONED_MEMO_SECONDS = 60.0
_provisioned: resettable.Memo[uuid.UUID, tuple[Principal, float]] = resettable.Memo(
    f"{__name__}._provisioned"
)


def _already_written(principal: Principal) -> bool:
    written = _provisioned.get(principal.user_id)
    return (
        written is not None
        and written[0] == principal
        and time.monotonic() - written[1] < PROVISIONED_MEMO_SECONDS
    )


def current_principal(session: Session, principal: Principal, token_issued_at: datetime | None) -> Principal:
    """The caller as Cognito has them now. A user Cognito disabled (or deleted) is refused with 401 until
    enabled; a role Cognito's events set after the token was issued replaces the token's (an hour-long ID
    token must not undo a demotion, nor re-promote the user when written back)."""
    stored = repository.stored_identity(session, principal.user_id)
    if stored is None:
        return principal
    if stored.status is UserStatus.DISABLED:
        raise Unauthorized("account disabled")
    pushed_later = stored.role_event_at is not None and (
        token_issued_at is None or stored.role_event_at >= token_issued_at
    )
    return replace(principal, role=stored.role) if pushed_later else principal


def provision(session: Session, principal: Principal) -> None:
    """Create the organization and user on first sight; keep the user's name, email and role current.

    A user id that already belongs to another organization is refused: a user never changes tenant.
    """
    if _already_written(principal):
        return
    repository.ensure_organization(session, principal.organization_id, principal.organization_name)
    repository.upsert_user(session, principal)
    _check_tenant(session, principal.user_id, principal.organization_id)
    session.commit()
    _provisioned.put(principal.user_id, (principal, time.monotonic()))


def provision_confirmed_user(
    session: Session,
    *,
    user_id: uuid.UUID,
    organization_id: uuid.UUID,
    email: str,
    name: str,
    organization_name: str | None = None,
) -> None:
    """Create the organization and user of a newly confirmed account (Cognito post-confirmation).

    The confirmation carries no groups, so a new user starts with the least privilege (professional);
    the first authenticated request upserts the role from the token's groups. An existing user is left
    untouched: a password reset also confirms, and must never demote a coordinator.
    """
    repository.ensure_organization(session, organization_id, organization_name)
    repository.insert_user_once(session, user_id, organization_id, email, name)
    _check_tenant(session, user_id, organization_id)
    session.commit()


def _check_tenant(session: Session, user_id: uuid.UUID, organization_id: uuid.UUID) -> None:
    if repository.user_organization(session, user_id) != organization_id:
        raise Forbidden("user belongs to another organization")
