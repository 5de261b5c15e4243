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
    # A trigger after leading whitespace or zero-width characters, and the full-width triggers
    " =1+1",
    "   +1+cmd|' /C calc'!A0",
    "\u00a0=1+1",
    "\u3000@SUM(A1:A2)",
    "\u2003-2+3",
    "\u200b=1+1",
    "\ufeff=1+1",
    " \u200b\u00a0 =1+1",
    "\uff1d1+1",
    "\uff0b1+1",
    "\uff0d2+3",
    "\uff20SUM(A1:A2)",
    " \uff1d1+1",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# What a spreadsheet may skip before a formula, and every trigger (full-width forms included).
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
ANY_TRIGGER = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Text built mostly from the characters that matter here, so hypothesis reaches the hard cases.
TRICKY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            [" ", "\t", "\r", "\n", "\u00a0", "\u2007", "\u3000", "\x00", "\x0b", "'", *ZERO_WIDTH]
        ),
        st.sampled_from(ANY_TRIGGER),
        st.characters(),
    ),
    max_size=30,
)


def without_leading_blanks(text: str) -> str:
    """The text as a spreadsheet reads it for a formula: leading whitespace and zero-width dropped."""
    index = 0
    while index < len(text) and (text[index].isspace() or text[index] in ZERO_WIDTH):
        index += 1
    return text[index:]


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


@given(st.one_of(st.text(max_size=200), TRICKY_TEXT))
def test_any_text_comes_out_safe(text: str) -> None:
    safe = safe_text(text)
    assert not safe.startswith(TRIGGERS)
    assert not without_leading_blanks(safe).startswith(ANY_TRIGGER)
    assert len(safe) <= MAX_CELL_CHARS
    assert all(ch in "\t\n\r" or ord(ch) >= 0x20 for ch in safe)
    assert not any("\ud800" <= ch <= "\udfff" or ch in "\ufffe\uffff" for ch in safe)
