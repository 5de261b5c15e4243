"""Demo data covers every priority, frequency and status, with due dates that follow the rules, a review
history behind every last review, and demo tokens that act as the seeded users they name."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from sqlalchemy import Engine, text

from eduautismo.domain import PlanStatus, Priority, ReviewFrequency, Role
from eduautismo.reports.workbook import DATA_SHEET_TITLE, HEADERS
from eduautismo.settings import get_settings
from eduautismo_local.cli import demo_token
from eduautismo_local.seed import (
    DEMO_COORDINATOR,
    DEMO_ORGANIZATIONS,
    SeedSize,
    add_plans,
    demo_already_seeded,
    seed_demo,
)
from eduautismo_local.tokens import verify_token
from tests.exports.conftest import s3 as s3  # the export bucket in moto: exports run inline
from tests.exports.conftest import stored_bytes
from tests.support.api import call_api
from tests.support.factories import Actor, Factory


def _count(db: Engine, query: str, **parameters: object) -> int:
    with db.connect() as connection:
        return int(connection.execute(text(query), parameters).scalar_one())


def _cross_tenant_plans(db: Engine) -> int:
    """Plans whose student or professional belongs to another organization."""
    return _count(
        db,
        "SELECT count(*) FROM intervention_plans p JOIN students s ON s.id = p.student_id "
        "JOIN users u ON u.id = p.professional_id "
        "WHERE s.organization_id <> p.organization_id OR u.organization_id <> p.organization_id",
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
        return _count(db, "SELECT count(*) FROM intervention_plans WHERE organization_id = :org", org=school)

    before = plans_of_school()
    # When 50 plans are added
    assert add_plans(db, 50).plans == 50
    # Then the demo school has 50 more, each for one of its students and professionals
    assert plans_of_school() == before + 50
    assert _cross_tenant_plans(db) == 0


def _plans_disagreeing_with_their_reviews(db: Engine) -> int:
    """Plans whose ``last_reviewed_at`` is not the time of their latest review (none without reviews)."""
    return _count(
        db,
        "SELECT count(*) FROM intervention_plans p LEFT JOIN LATERAL "
        "(SELECT max(reviewed_at) AS last FROM plan_reviews r WHERE r.plan_id = p.id) h ON true "
        "WHERE p.last_reviewed_at IS DISTINCT FROM h.last",
    )


def _reviews_out_of_place(db: Engine) -> int:
    """Reviews by someone other than the plan's professional, before its start, or in the future."""
    return _count(
        db,
        "SELECT count(*) FROM plan_reviews r JOIN intervention_plans p ON p.id = r.plan_id "
        "WHERE r.reviewer_id <> p.professional_id OR r.reviewed_at > now() "
        "OR (r.reviewed_at AT TIME ZONE 'America/Sao_Paulo')::date < p.start_date",
    )


def test_every_seeded_last_review_is_a_seeded_review_also_after_adding_plans(db: Engine) -> None:
    # Given the demo data
    report = seed_demo(db)
    # Then every plan's last review is its latest seeded review, made by its professional after its start
    assert report.reviews > report.plans
    assert (_plans_disagreeing_with_their_reviews(db), _reviews_out_of_place(db)) == (0, 0)
    # When plans are added to it
    added = add_plans(db, 200)
    # Then the same holds for them
    assert added.plans == 200 and added.reviews > 200
    assert (_plans_disagreeing_with_their_reviews(db), _reviews_out_of_place(db)) == (0, 0)


def _rate_fills(sheet: Any) -> dict[str, str]:
    """The rate cell's fill colour of each professional row (not the totals) of the compliance sheet."""
    rows = list(sheet.iter_rows())
    rate_column = HEADERS.index("Taxa no prazo")
    return {
        str(row[0].value): str(row[rate_column].fill.start_color.rgb)[-6:]
        for row in rows[1:]
        if row[0].value != "Total"
    }


def test_the_demo_compliance_report_has_on_time_and_late_reviews_in_red_yellow_and_green(
    db: Engine, s3: Any
) -> None:
    # Given the demo data, and its coordinator as the demo token describes them
    seed_demo(db)
    coordinator = Actor(
        DEMO_COORDINATOR.id,
        DEMO_ORGANIZATIONS[0][0],
        Role.COORDINATOR,
        DEMO_COORDINATOR.email,
        DEMO_COORDINATOR.name,
    )
    # When the coordinator reads the compliance report of the last 90 days, and exports it
    report = call_api("GET", "/api/v1/reports/review-compliance", claims=coordinator.claims)
    exported = call_api("GET", "/api/v1/export/review-compliance/excel", claims=coordinator.claims)
    # Then most reviews were on time and some were late
    totals = report.json["totals"]
    assert totals["reviews_in_period"] > 0 and totals["late_reviews"] > 0
    assert totals["on_time_reviews"] > totals["late_reviews"]
    # And the sheet has a red, a yellow and a green rate
    assert exported.status == 200, exported.json
    workbook = openpyxl.load_workbook(io.BytesIO(stored_bytes(s3, db, coordinator)))
    fills = _rate_fills(workbook[DATA_SHEET_TITLE])
    assert {"FFC7CE", "FFEB9C", "C6EFCE"} <= set(fills.values()), fills


def test_adding_plans_leaves_students_and_staff_created_since_the_seed_untouched(db: Engine) -> None:
    # Given the demo data, then a student and a professional created in the demo school as people would
    seed_demo(db, SeedSize(plans=20, professionals=4, students=10))
    school = DEMO_ORGANIZATIONS[0][0]
    factory = Factory(db)
    maria = factory.student(school, full_name="Maria Souza")
    newcomer = factory.user(school, Role.PROFESSIONAL, name="Nova Profissional")
    # When many plans are added
    add_plans(db, 500)
    # Then none of them is for that student or assigned to that professional
    touching = _count(
        db,
        "SELECT count(*) FROM intervention_plans WHERE student_id = :student OR professional_id = :user",
        student=maria,
        user=newcomer.user_id,
    )
    assert touching == 0


def test_the_demo_tokens_keep_the_seeded_users_names_and_emails(db: Engine) -> None:
    # Given the demo data
    seed_demo(db)
    for role in ("coordinator", "professional"):
        # When each demo token is used
        claims = verify_token(get_settings(), "Bearer " + demo_token(role))
        assert claims is not None
        answer = call_api("GET", "/api/v1/users", claims=claims, query={"role": role})
        assert answer.status == 200, answer.json
        # Then the user it acts as keeps the name and email the seed gave them
        with db.connect() as connection:
            name, email = connection.execute(
                text("SELECT name, email FROM users WHERE id = :id"), {"id": claims["sub"]}
            ).one()
        assert (name, email) == (claims["name"], claims["email"])
        assert name not in ("Coordenação Demo", "Profissional Demo")
