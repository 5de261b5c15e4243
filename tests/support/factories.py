"""Test data builders: each test makes its own organizations, users, students and plans."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.db.models import InterventionPlan, NotificationPreference, Organization, Student, User
from eduautismo.domain import (
    DEFAULT_TIMEZONE,
    NotificationPriority,
    NotificationType,
    ReviewFrequency,
    Role,
    next_review_due,
)
from eduautismo.identity.principal import Principal
from eduautismo.notifications.service import NotificationCreate


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    role: Role
    email: str
    name: str

    @property
    def claims(self) -> dict[str, Any]:
        """Claims as a Cognito ID token carries them (the HTTP API stringifies them on the way in)."""
        return {
            "sub": str(self.user_id),
            "email": self.email,
            "name": self.name,
            "custom:organization_id": str(self.organization_id),
            "cognito:groups": [self.role.value],
        }

    @property
    def principal(self) -> Principal:
        """The caller as a route, a job or a worker hands it to a use case."""
        return Principal(self.user_id, self.organization_id, self.email, self.name, self.role)


class Factory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _add(self, obj: Any) -> Any:
        with Session(self.engine, expire_on_commit=False) as session:
            session.add(obj)
            session.commit()
        return obj

    def organization(self, name: str = "Escola Teste", timezone: str = DEFAULT_TIMEZONE) -> uuid.UUID:
        org = self._add(Organization(id=uuid.uuid4(), name=name, timezone=timezone))
        return org.id  # type: ignore[no-any-return]

    def user(
        self, organization_id: uuid.UUID, role: Role = Role.PROFESSIONAL, name: str = "Usuária Teste"
    ) -> Actor:
        user_id = uuid.uuid4()
        email = f"{user_id.hex[:8]}@escola.example"
        self._add(User(id=user_id, organization_id=organization_id, email=email, name=name, role=role.value))
        return Actor(user_id, organization_id, role, email, name)

    def preferences(self, actor: Actor, **values: Any) -> None:
        """The actor's reminder preferences: the defaults overridden by ``values``."""
        defaults: dict[str, Any] = {
            "email_digest": "daily",
            "digest_hour": 7,
            "digest_weekday": 1,
            "muted_types": [],
        }
        self._add(NotificationPreference(user_id=actor.user_id, **{**defaults, **values}))

    def student(self, organization_id: uuid.UUID, full_name: str = "Aluno Teste") -> uuid.UUID:
        return self._add(Student(organization_id=organization_id, full_name=full_name)).id  # type: ignore[no-any-return]

    def plan(
        self,
        professional: Actor,
        *,
        student_id: uuid.UUID | None = None,
        created_by: Actor | None = None,
        title: str = "Plano Teste",
        description: str = "Descrição",
        status: str = "active",
        priority: str = "medium",
        review_frequency: str = "weekly",
        start_date: date | None = None,
        last_reviewed_at: datetime | None = None,
        created_at: datetime | None = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> InterventionPlan:
        start = start_date or datetime.now(UTC).date()
        plan = InterventionPlan(
            organization_id=professional.organization_id,
            student_id=student_id or self.student(professional.organization_id),
            professional_id=professional.user_id,
            created_by_id=(created_by or professional).user_id,
            title=title,
            description=description,
            status=status,
            priority=priority,
            review_frequency=review_frequency,
            start_date=start,
            last_reviewed_at=last_reviewed_at,
            next_review_due=next_review_due(
                ReviewFrequency(review_frequency), start, last_reviewed_at, timezone
            ),
        )
        if created_at is not None:
            plan.created_at = created_at
            plan.updated_at = created_at
        return self._add(plan)


def notification_for(
    actor: Actor, title: str = "Aviso do sistema", message: str = "Mensagem de teste", **fields: Any
) -> NotificationCreate:
    """What NotificationService.create_notification takes to notify ``actor``; ``fields`` are
    NotificationCreate's other fields (type system and priority medium unless given)."""
    fields = {"type": NotificationType.SYSTEM, "priority": NotificationPriority.MEDIUM, **fields}
    return NotificationCreate(actor.organization_id, actor.user_id, title=title, message=message, **fields)
