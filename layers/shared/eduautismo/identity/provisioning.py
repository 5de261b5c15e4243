"""Just-in-time provisioning of the caller's organization and user from the claims."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eduautismo import resettable
from eduautismo.db.models import Organization, User
from eduautismo.domain import Role
from eduautismo.errors import Forbidden
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


def provision(session: Session, principal: Principal) -> None:
    """Create the organization and user on first sight; keep the user's name, email and role current.

    A user id that already belongs to another organization is refused: a user never changes tenant.
    """
    if _already_written(principal):
        return
    _ensure_organization(session, principal.organization_id, principal.organization_name)
    upsert = insert(User).values(
        id=principal.user_id,
        organization_id=principal.organization_id,
        email=principal.email,
        name=principal.name,
        role=principal.role.value,
    )
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[User.id],
            set_={"email": upsert.excluded.email, "name": upsert.excluded.name, "role": upsert.excluded.role},
            where=(User.organization_id == upsert.excluded.organization_id)
            & (
                (User.email != upsert.excluded.email)
                | (User.name != upsert.excluded.name)
                | (User.role != upsert.excluded.role)
            ),
        )
    )
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
    _ensure_organization(session, organization_id, organization_name)
    session.execute(
        insert(User)
        .values(
            id=user_id,
            organization_id=organization_id,
            email=email,
            name=name,
            role=Role.PROFESSIONAL.value,
        )
        .on_conflict_do_nothing(index_elements=[User.id])
    )
    _check_tenant(session, user_id, organization_id)
    session.commit()


def _ensure_organization(session: Session, organization_id: uuid.UUID, name: str | None) -> None:
    session.execute(
        insert(Organization)
        .values(id=organization_id, name=name or f"Organização {str(organization_id)[:8]}")
        .on_conflict_do_nothing(index_elements=[Organization.id])
    )


def _check_tenant(session: Session, user_id: uuid.UUID, organization_id: uuid.UUID) -> None:
    stored_org = session.scalar(select(User.organization_id).where(User.id == user_id))
    if stored_org != organization_id:
        raise Forbidden("user belongs to another organization")


def forget_provisioned() -> None:
    _provisioned.clear()
