"""Notifications caused by plan writes (DESIGN §6), written in the caller's transaction.

The plans feature calls these inside the same session as the write; the notifications feature owns
what they create. Nobody is notified of their own act.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from eduautismo.db.models import InterventionPlan
from eduautismo.identity.principal import Principal


def plan_created(session: Session, plan: InterventionPlan, actor: Principal) -> None:
    """`plan_created` to the responsible professional (if someone else acted); `high_priority` when high."""


def plan_updated(session: Session, plan: InterventionPlan, actor: Principal, previous_priority: str) -> None:
    """`plan_updated` to the responsible professional (if someone else acted); `high_priority` when the
    priority changed to high."""


def plan_reviewed(session: Session, plan: InterventionPlan, reviewer: Principal) -> None:
    """`plan_reviewed` to the plan's creator when someone else reviewed."""
