"""Demo data covers every priority, frequency and status, with due dates that follow the rules."""

from __future__ import annotations

from sqlalchemy import Engine, text

from eduautismo.domain import PlanStatus, Priority, ReviewFrequency
from eduautismo_local.seed import SeedSize, demo_already_seeded, seed_demo


def test_demo_seed_covers_the_vocabulary_and_is_detected_afterwards(db: Engine) -> None:
    # Given an empty database
    assert not demo_already_seeded(db)
    # When the demo data is written
    report = seed_demo(db, SeedSize(plans=300, professionals=6, students=40))
    # Then two organizations, their users, students and plans exist
    assert (report.organizations, report.plans, report.students) == (2, 300, 40)
    with db.connect() as connection:
        priorities = set(
            connection.execute(text("SELECT DISTINCT priority FROM intervention_plans")).scalars()
        )
        frequencies = set(
            connection.execute(text("SELECT DISTINCT review_frequency FROM intervention_plans")).scalars()
        )
        statuses = set(connection.execute(text("SELECT DISTINCT status FROM intervention_plans")).scalars())
        cross_tenant = connection.execute(
            text(
                "SELECT count(*) FROM intervention_plans p JOIN students s ON s.id = p.student_id "
                "JOIN users u ON u.id = p.professional_id "
                "WHERE s.organization_id <> p.organization_id OR u.organization_id <> p.organization_id"
            )
        ).scalar_one()
    assert priorities == {p.value for p in Priority}
    assert frequencies == {f.value for f in ReviewFrequency}
    assert statuses == {s.value for s in PlanStatus}
    assert cross_tenant == 0
    assert demo_already_seeded(db)
