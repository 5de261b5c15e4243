"""Demo data covers every priority, frequency and status, with due dates that follow the rules."""

from __future__ import annotations

from sqlalchemy import Engine, text

from eduautismo.domain import PlanStatus, Priority, ReviewFrequency
from eduautismo_local.seed import DEMO_ORGANIZATIONS, SeedSize, add_plans, demo_already_seeded, seed_demo


def _cross_tenant_plans(db: Engine) -> int:
    """Plans whose student or professional belongs to another organization."""
    with db.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM intervention_plans p JOIN students s ON s.id = p.student_id "
                    "JOIN users u ON u.id = p.professional_id "
                    "WHERE s.organization_id <> p.organization_id OR u.organization_id <> p.organization_id"
                )
            ).scalar_one()
        )


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
    assert priorities == {p.value for p in Priority}
    assert frequencies == {f.value for f in ReviewFrequency}
    assert statuses == {s.value for s in PlanStatus}
    assert _cross_tenant_plans(db) == 0
    assert demo_already_seeded(db)


def test_adding_plans_puts_them_in_the_demo_school_with_its_own_students_and_staff(db: Engine) -> None:
    # Given the demo data
    seed_demo(db, SeedSize(plans=20, professionals=4, students=10))
    school = DEMO_ORGANIZATIONS[0][0]

    def plans_of_school() -> int:
        with db.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM intervention_plans WHERE organization_id = :org"),
                    {"org": school},
                ).scalar_one()
            )

    before = plans_of_school()
    # When 50 plans are added
    assert add_plans(db, 50) == 50
    # Then the demo school has 50 more, each for one of its students and professionals
    assert plans_of_school() == before + 50
    assert _cross_tenant_plans(db) == 0
