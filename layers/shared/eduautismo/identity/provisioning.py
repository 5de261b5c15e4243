"""Just-in-time provisioning of the caller's organization and user from the claims."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eduautismo.db.models import Organization, User
from eduautismo.errors import Forbidden
from eduautismo.identity.principal import Principal

# Principals already written by this container: skip the round trip on warm requests.
_provisioned: set[Principal] = set()


def provision(session: Session, principal: Principal) -> None:
    """Create the organization and user on first sight; keep the user's name, email and role current.

    A user id that already belongs to another organization is refused: a user never changes tenant.
    """
    if principal in _provisioned:
        return
    org_name = principal.organization_name or f"Organização {str(principal.organization_id)[:8]}"
    session.execute(
        insert(Organization)
        .values(id=principal.organization_id, name=org_name)
        .on_conflict_do_nothing(index_elements=[Organization.id])
    )
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
    stored_org = session.scalar(select(User.organization_id).where(User.id == principal.user_id))
    if stored_org != principal.organization_id:
        raise Forbidden("user belongs to another organization")
    session.commit()
    _provisioned.add(principal)


def forget_provisioned() -> None:
    _provisioned.clear()
