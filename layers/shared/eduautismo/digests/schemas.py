"""What the digest feature passes around: the queue message, a digest's content (only plan titles, dates,
counts and links: mail is less protected than the app), and the outcomes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import ConfigDict

from eduautismo.api.model import ApiModel


class DigestRequest(ApiModel):
    """One SQS message: send ``user_id`` the digest of ``period`` as of ``at``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: uuid.UUID
    period: str
    at: datetime


@dataclass(frozen=True)
class DigestPlan:
    plan_id: uuid.UUID
    title: str
    next_review_due: date
    days_overdue: int


@dataclass(frozen=True)
class Escalation:
    professional_name: str
    plans: int


@dataclass(frozen=True)
class Recipient:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    name: str
    is_coordinator: bool
    timezone: str


@dataclass
class DigestContent:
    recipient: Recipient
    period: str
    today: date
    overdue: list[DigestPlan] = field(default_factory=list)
    due_soon: list[DigestPlan] = field(default_factory=list)
    overdue_total: int = 0
    due_soon_total: int = 0
    unread_count: int = 0
    escalations: list[Escalation] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Unread notifications alone do not make a digest: there must be a review to do or escalate."""
        return self.overdue_total == 0 and self.due_soon_total == 0 and not self.escalations


@dataclass(frozen=True)
class Email:
    """An RFC 5322 message ready to send, and its envelope."""

    to: str
    subject: str
    raw: bytes


@dataclass
class TickSummary:
    """One hourly tick: users selected, emails sent, empty digests skipped, digests sent before."""

    selected: int = 0
    sent: int = 0
    empty: int = 0
    already_sent: int = 0
    duration_ms: int = 0
