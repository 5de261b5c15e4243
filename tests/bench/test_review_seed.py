"""The scale seed's review history agrees with the plans it belongs to."""

from __future__ import annotations

from sqlalchemy import Engine, text

from benchmarks.dataset import ScaleSize, seed_scale


def test_each_reviewed_plan_s_history_ends_at_its_last_review_and_starts_after_its_start(db: Engine) -> None:
    # Given a small fraction of the benchmark data set
    size = ScaleSize(scale=0.002)
    # When it is seeded
    dataset = seed_scale(db, size)
    # Then there are about 3 reviews per plan, and every reviewed plan's latest review is its
    # last_reviewed_at; none made by someone else, none before the start
    with db.connect() as connection:
        mismatched = connection.execute(
            text(
                "SELECT count(*) FROM intervention_plans p LEFT JOIN LATERAL "
                "(SELECT max(reviewed_at) AS last FROM plan_reviews r WHERE r.plan_id = p.id) h ON true "
                "WHERE p.last_reviewed_at IS DISTINCT FROM h.last"
            )
        ).scalar_one()
        misplaced = connection.execute(
            text(
                "SELECT count(*) FROM plan_reviews r JOIN intervention_plans p ON p.id = r.plan_id "
                "WHERE r.reviewer_id <> p.professional_id OR r.reviewed_at < p.start_date - interval '1 day'"
            )
        ).scalar_one()
    assert 2 * dataset.plans <= dataset.reviews <= 4 * dataset.plans
    assert (mismatched, misplaced) == (0, 0)
