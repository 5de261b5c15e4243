"""The scale data set of `make bench`, bulk-loaded with COPY, and the actors the scenarios act as."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, text

from benchmarks.harness import BenchDataset
from eduautismo.db.bulk import copy_rows
from eduautismo.domain import ReviewFrequency, Role, add_months, review_interval
from eduautismo_local.seed import (
    DEMO_COORDINATOR_ID,
    DEMO_ORGANIZATIONS,
    DEMO_PROFESSIONAL_ID,
    SeedSize,
    seed_demo,
)
from tests.support.factories import Actor


@dataclass(frozen=True)
class ScaleSize:
    """The benchmark scale; ``scale`` shrinks every count for quick runs (1.0 = the real thing)."""

    scale: float = 1.0

    @property
    def reviews(self) -> int:
        """Review history spread over the reviewed plans (about 3 per plan of the data set)."""
        return max(100, round(300_000 * self.scale))

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
    report = seed_demo(engine, size.seed_size())
    reviews = seed_review_history(engine, size.reviews)
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
        coordinator=by_id[DEMO_COORDINATOR_ID],
        professionals=tuple(actor for actor in users if actor.role is Role.PROFESSIONAL),
        heavy_user=by_id[DEMO_PROFESSIONAL_ID],
        plans=report.plans,
        notifications=report.notifications,
        reviews=reviews,
    )


REVIEW_COLUMNS = ("id", "plan_id", "reviewer_id", "reviewed_at", "notes")


def _cycle_back(day: date, frequency: ReviewFrequency) -> date:
    """The due date one review interval before ``day`` (the inverse step of next_review_due)."""
    months, days = review_interval(frequency)
    return add_months(day, -months) - timedelta(days=days)


def seed_review_history(engine: Engine, total: int, seed: int = 7) -> int:
    """About ``total`` plan_reviews over the plans that were ever reviewed, copied in one stream.

    Each reviewed plan's history ends at its ``last_reviewed_at`` (so plans and reviews agree) and walks
    back one interval at a time, each review some days early or late (mostly on time, a tail of late
    ones) and never before the plan's start date. Plans never reviewed keep no history.
    """
    rng = random.Random(seed)
    with engine.connect() as connection:
        plans = connection.execute(
            text(
                "SELECT id, professional_id, review_frequency, start_date, last_reviewed_at "
                "FROM intervention_plans WHERE last_reviewed_at IS NOT NULL ORDER BY id"
            )
        ).all()

    def rows() -> Iterator[tuple[object, ...]]:
        # Each plan draws around the share still owed (plans cut short by their start date leave more
        # for the next ones), so the total lands near ``total``.
        owed = total
        for index, (plan_id, reviewer_id, frequency, start_date, last_reviewed_at) in enumerate(plans):
            share = owed / (len(plans) - index)
            reviewed_at: datetime = last_reviewed_at
            for _ in range(rng.randint(1, max(1, round(2 * share) - 1))):
                yield (uuid.uuid4(), plan_id, reviewer_id, reviewed_at, None)
                owed -= 1
                slip = timedelta(days=rng.choice((-2, -1, 0, 0, 0, 1, 3, 9)), hours=rng.randint(-6, 6))
                earlier = datetime.combine(
                    _cycle_back(reviewed_at.date(), ReviewFrequency(frequency)),
                    reviewed_at.timetz(),
                )
                reviewed_at = min(earlier - slip, reviewed_at - timedelta(hours=1))
                if reviewed_at.date() < start_date:
                    break

    return copy_rows(engine, "plan_reviews", REVIEW_COLUMNS, rows())
