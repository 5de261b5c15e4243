"""Cell safety: formula triggers neutralised, XML-illegal characters removed, long text cut visibly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduautismo.exports.cells import MAX_CELL_CHARS, TRUNCATION_MARK, safe_text

INJECTION_PAYLOADS = [
    "=1+1",
    '=HYPERLINK("http://evil.example","clique")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


@pytest.mark.parametrize("payload", INJECTION_PAYLOADS)
def test_every_formula_trigger_is_neutralised_with_a_leading_apostrophe(payload: str) -> None:
    # Given a cell text starting with a formula trigger
    # When it is made safe
    safe = safe_text(payload)
    # Then it starts with an apostrophe and keeps the original text after it
    assert safe == "'" + payload


def test_plain_text_is_left_alone() -> None:
    # Given ordinary text, including a formula sign that is not the first character
    text = "Plano 2 = revisar rotina; nota -1 @escola"
    # When / Then
    assert safe_text(text) == text


def test_xml_illegal_characters_are_removed() -> None:
    # Given text with control characters, a lone surrogate and a non-character
    text = "A\x00l\x01u\x08n\x0bo\x0c \x1fX\ud800\ufffe\uffff"
    # When it is made safe
    safe = safe_text(text)
    # Then only the legal characters remain (tab, CR and LF inside the text are legal)
    assert safe == "Aluno X"
    assert safe_text("linha 1\nlinha 2\tfim\r") == "linha 1\nlinha 2\tfim\r"


def test_an_illegal_character_cannot_hide_a_formula_trigger() -> None:
    # Given a formula preceded by an illegal character that is removed
    # When / Then: the formula is still neutralised
    assert safe_text("\x00=1+1") == "'=1+1"


def test_text_over_the_cell_limit_is_cut_with_a_visible_mark() -> None:
    # Given a text longer than Excel accepts in one cell
    text = "a" * (MAX_CELL_CHARS + 100)
    # When it is made safe
    safe = safe_text(text)
    # Then it fits exactly and says it was cut
    assert len(safe) == MAX_CELL_CHARS
    assert safe.endswith(TRUNCATION_MARK)
    assert safe_text("a" * MAX_CELL_CHARS) == "a" * MAX_CELL_CHARS


@given(st.text(max_size=200))
def test_any_text_comes_out_safe(text: str) -> None:
    safe = safe_text(text)
    assert not safe.startswith(TRIGGERS)
    assert len(safe) <= MAX_CELL_CHARS
    assert all(ch in "\t\n\r" or ord(ch) >= 0x20 for ch in safe)
    assert not any("\ud800" <= ch <= "\udfff" or ch in "\ufffe\uffff" for ch in safe)
