"""The scale data set of `make bench`, bulk-loaded with COPY, and the actors the scenarios act as."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, text

from benchmarks.harness import BenchDataset
from eduautismo.domain import Role
from eduautismo_local.seed import (
    DEMO_COORDINATOR,
    DEMO_ORGANIZATIONS,
    DEMO_PROFESSIONAL,
    SeedSize,
    seed_demo,
)
from tests.support.factories import Actor


@dataclass(frozen=True)
class ScaleSize:
    """The benchmark scale; ``scale`` shrinks every count for quick runs (1.0 = the real thing)."""

    scale: float = 1.0

    def seed_size(self) -> SeedSize:
        def scaled(count: int, floor: int) -> int:
            return max(floor, round(count * self.scale))

        return SeedSize(
            plans=scaled(100_000, 50),
            professionals=scaled(200, 4),
            students=scaled(5_000, 20),
            notifications=scaled(500_000, 100),
            heavy_user_notifications=scaled(10_000, 20),
        )


def _actor(row: tuple[uuid.UUID, uuid.UUID, str, str, str]) -> Actor:
    user_id, organization_id, email, name, role = row
    return Actor(user_id, organization_id, Role(role), email, name)


def seed_scale(engine: Engine, size: ScaleSize) -> BenchDataset:
    """Seed into an empty migrated database, refresh the planner's statistics, describe the result."""
    # The demo seed writes each plan's review history (0 to 6 reviews, none in the future): ~260,000.
    report = seed_demo(engine, size.seed_size())
    main_organization = DEMO_ORGANIZATIONS[0][0]
    with engine.begin() as connection:  # committed: statistics written inside a rolled-back block vanish
        connection.execute(text("ANALYZE"))
    with engine.connect() as connection:
        users = [
            _actor(row)  # type: ignore[arg-type]
            for row in connection.execute(
                text(
                    "SELECT id, organization_id, email, name, role FROM users "
                    "WHERE organization_id = :organization ORDER BY email"
                ),
                {"organization": main_organization},
            )
        ]
    by_id = {actor.user_id: actor for actor in users}
    return BenchDataset(
        organization_ids=tuple(org_id for org_id, _name in DEMO_ORGANIZATIONS),
        coordinator=by_id[DEMO_COORDINATOR.id],
        professionals=tuple(actor for actor in users if actor.role is Role.PROFESSIONAL),
        heavy_user=by_id[DEMO_PROFESSIONAL.id],
        plans=report.plans,
        notifications=report.notifications,
        reviews=report.reviews,
    )
