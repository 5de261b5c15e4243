"""What the PDF holds and how it lays it out: page numbers, the overdue line, long histories, any script,
long descriptions, and a first page that really draws."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import Engine

from tests.plan_document.conftest import (
    School,
    page_texts,
    plan_document,
    record_reviews,
    render_page,
    stored_pdf,
)
from tests.support.factories import Factory


def _pixels(image: Image.Image, test: Callable[[tuple[int, int, int]], bool]) -> int:
    return sum(1 for pixel in image.get_flattened_data() if test(pixel))


def _red(pixel: tuple[int, int, int]) -> bool:
    red, green, blue = pixel
    return red > 150 and green < 90 and blue < 90


def _ink(pixel: tuple[int, int, int]) -> bool:
    return sum(pixel) < 600


@pytest.mark.usefixtures("clock_at_now")
def test_page_numbers_and_the_confidentiality_line_are_on_every_page(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student with 40 plans of 60 reviews each
    for number in range(40):
        plan = factory.plan(
            place.professional,
            student_id=helena,
            title=f"Plano número {number:02d}",
            start_date=date(2025, 1, 6),
        )
        moments = [datetime(2025, 1, 6, 15, tzinfo=UTC) + timedelta(days=4 * day) for day in range(60)]
        record_reviews(db, plan, place.professional, moments, notes=f"P{number:02d} nota {{n:02d}}")
    # When the coordinator downloads her plan document
    response = plan_document(place.coordinator, helena)
    assert response.status == 200, response.body
    pages = page_texts(stored_pdf(s3, db, place.coordinator))
    # Then it runs over many pages, each numbered "Página X de Y" and carrying the confidentiality line
    assert len(pages) > 10
    for number, text in enumerate(pages, start=1):
        assert f"Página {number} de {len(pages)}" in text
        assert "LGPD, arts. 11 e 14" in text
        assert "Documento confidencial" in text
    whole = "\n".join(pages)
    # And every plan lists its 50 newest reviews, newest first, then "e mais 10 revisões"
    assert whole.count("e mais 10 revisões") == 40
    for number in range(40):
        notes = [int(n) for n in re.findall(rf"P{number:02d} nota (\d\d)", whole)]
        assert notes == list(range(59, 9, -1))
    # And no plan's heading is separated from its first review: both on one page
    for number in range(40):
        [title_page] = [index for index, text in enumerate(pages) if f"Plano número {number:02d}" in text]
        [first_review_page] = [index for index, text in enumerate(pages) if f"P{number:02d} nota 59" in text]
        assert title_page == first_review_page, number


@pytest.mark.usefixtures("clock_at_now")
def test_an_overdue_plan_shows_its_overdue_line_in_red(
    place: School, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student with an active weekly plan due on 20 November, today being 4 December (14 days late),
    # and another student whose plan is due next week; neither has reviews, so the chart has no red
    late, punctual = factory.student(place.org_id, "Helena Costa"), factory.student(place.org_id, "Caio Lima")
    factory.plan(place.professional, student_id=late, title="Rotina visual", start_date=date(2026, 11, 13))
    factory.plan(place.professional, student_id=punctual, title="Rotina visual", start_date=date(2026, 12, 3))
    # When the coordinator downloads both documents
    assert plan_document(place.coordinator, late).status == 200
    late_pdf = stored_pdf(s3, db, place.coordinator)
    assert plan_document(place.coordinator, punctual).status == 200
    punctual_pdf = stored_pdf(s3, db, place.coordinator)
    # Then the late plan says so, and the line is drawn in red; the punctual one has neither
    assert "Próxima revisão: 20/11/2026 — atrasada há 14 dias" in page_texts(late_pdf)[0]
    assert "Próxima revisão: 10/12/2026" in page_texts(punctual_pdf)[0]
    assert "atrasada há" not in page_texts(punctual_pdf)[0]
    # (the chart's legend has a red square in both)
    late_red, punctual_red = (
        _pixels(render_page(late_pdf, 1), _red),
        _pixels(render_page(punctual_pdf, 1), _red),
    )
    print(late_red, punctual_red)
    assert late_red > punctual_red + 300


@pytest.mark.usefixtures("clock_at_now")
def test_a_paused_plan_past_its_date_is_not_called_overdue(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a paused plan whose next review date has passed (only active plans are due for review)
    factory.plan(place.professional, student_id=helena, status="paused", start_date=date(2026, 11, 13))
    # When the coordinator downloads her document
    assert plan_document(place.coordinator, helena).status == 200
    # Then the date is given without the overdue mark
    text = page_texts(stored_pdf(s3, db, place.coordinator))[0]
    assert "Próxima revisão: 20/11/2026" in text and "atrasada há" not in text


def test_names_in_any_script_render(place: School, factory: Factory, db: Engine, s3: Any) -> None:
    # Given a student named in Arabic, Chinese, Hindi, with emoji and XML-illegal characters, a
    # plan in Cyrillic, Greek and Japanese, and notes with control characters and non-characters
    # (PostgreSQL itself refuses NUL and lone surrogates)
    name = "محمد علي 李小龙 नमस्ते Zoë 😀🎉\x0b\x1f"
    helena = factory.student(place.org_id, name)
    plan = factory.plan(
        place.professional, student_id=helena, title="План Ωμέγα 計画", description="Ação\x01 ✓"
    )
    record_reviews(
        db, plan, place.professional, [datetime(2026, 11, 30, 14, tzinfo=UTC)], "Nota\x01 😀 \ufffeok\uffff"
    )
    # When the coordinator downloads the document
    response = plan_document(place.coordinator, helena)
    # Then it is produced, and the text reads back in every script (the control characters dropped)
    assert response.status == 200, response.body
    content = stored_pdf(s3, db, place.coordinator)
    text = "\n".join(page_texts(content))
    for expected in ("李小龙", "Zoë", "😀", "🎉", "План Ωμέγα 計画", "Ação ✓", "Nota 😀 ok"):
        assert expected in text, expected
    assert "محمد" in text or "دمحم" in text  # Arabic, stored in visual order by some readers
    assert not {"\x01", "\x0b", "\x1f", "\ufffe", "\uffff"} & set(text)
    # And the fonts that drew it are embedded: the main font, and the CJK and emoji fallbacks
    reader = PdfReader(io.BytesIO(content))
    fonts = {
        str(font["/BaseFont"]).split("+")[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert {"DejaVuSansBook", "DejaVuSansBold", "DroidSansFallback", "Symbola"} <= fonts
    assert "NotoSansDevanagari" in fonts


def test_a_ten_thousand_character_description_is_printed_whole(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a plan whose description has 10,000 characters: 800 numbered words, then one of 400 letters
    words = [f"palavra{number:04d}" for number in range(800)]
    long_word = "x" * 300 + "y" * 100
    description = " ".join([*words, long_word])
    assert len(description) == 10_000
    factory.plan(place.professional, student_id=helena, title="Plano extenso", description=description)
    # When the coordinator downloads the document
    assert plan_document(place.coordinator, helena).status == 200
    # Then every word of it is in the PDF, in order, on one or more pages
    text = "\n".join(page_texts(stored_pdf(s3, db, place.coordinator)))
    found = re.findall(r"palavra\d{4}", text)
    assert found == words
    assert long_word in text.replace("\n", "")


def test_the_first_page_is_drawn(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student with a reviewed plan
    plan = factory.plan(place.professional, student_id=helena, start_date=date(2026, 11, 2))
    record_reviews(db, plan, place.professional, [datetime(2026, 11, 20, 14, tzinfo=UTC)])
    # When the coordinator downloads the document and poppler draws its first page
    assert plan_document(place.coordinator, helena).status == 200
    image = render_page(stored_pdf(s3, db, place.coordinator), 1)
    # Then the page is A4-shaped and not blank: ink in its top half (the title) and in its footer
    width, height = image.size
    assert abs(height / width - 297 / 210) < 0.01
    top = image.crop((0, 0, width, height // 2))
    footer = image.crop((0, height * 9 // 10, width, height))
    assert _pixels(top, _ink) > 500
    assert _pixels(footer, _ink) > 50
