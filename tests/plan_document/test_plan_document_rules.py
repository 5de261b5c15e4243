"""The plan document's small rules, without a database: ages, plurals, the chart's scale, the chart's
months, and line breaking of the fast text path."""

from __future__ import annotations

from datetime import date

import pytest

from eduautismo.domain import age_in_years
from eduautismo.plan_document.pdf import (
    _nice_ceiling,
    age_text,
    clean,
    month_label,
    more_reviews_text,
    overdue_text,
)
from eduautismo.plan_document.repository import chart_window


@pytest.mark.parametrize(
    ("birth", "today", "years"),
    [
        (date(2018, 12, 5), date(2026, 12, 4), 7),  # birthday tomorrow
        (date(2018, 12, 4), date(2026, 12, 4), 8),  # birthday today
        (date(2020, 2, 29), date(2025, 2, 28), 4),  # leap day, not yet in a common year
        (date(2020, 2, 29), date(2025, 3, 1), 5),
        (date(2026, 12, 5), date(2026, 12, 4), None),  # a birth date after today gives no age
    ],
)
def test_age_in_whole_years(birth: date, today: date, years: int | None) -> None:
    assert age_in_years(birth, today) == years


def test_singular_and_plural_texts() -> None:
    assert (overdue_text(1), overdue_text(14)) == ("atrasada há 1 dia", "atrasada há 14 dias")
    assert (more_reviews_text(1), more_reviews_text(10)) == ("e mais 1 revisão", "e mais 10 revisões")
    assert (age_text(1), age_text(7)) == ("1 ano", "7 anos")


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (201, 500)])
def test_the_chart_top_is_a_round_number_at_least_the_highest_bar(value: int, ceiling: int) -> None:
    assert _nice_ceiling(value) == ceiling


def test_the_chart_covers_the_current_month_and_the_eleven_before() -> None:
    window = chart_window(date(2026, 3, 31), "America/Sao_Paulo")
    assert (window.date_from, window.date_to) == (date(2025, 4, 1), date(2026, 3, 31))
    assert month_label(date(2025, 4, 1)) == "abr/25"


def test_clean_removes_what_a_pdf_cannot_hold_and_keeps_the_rest() -> None:
    assert clean("Ação\x01\x0b\r\nfim\tok\ufffe 😀") == "Ação\nfim ok 😀"
