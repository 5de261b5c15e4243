"""Cell safety for both formats: no formula injection, no XML-illegal characters, no silent truncation.

The rule, applied in this order to every text cell of the CSV and the XLSX (one function, ``safe_text``;
any other writer, such as a CSV produced by PostgreSQL ``COPY``, must mirror it exactly):

1. Remove every XML-illegal character: U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+D800-U+DFFF
   (lone surrogates), U+FFFE, U+FFFF.
2. Let the *lead* be the longest prefix made only of whitespace (U+0009-U+000D, U+001C-U+001F, U+0020,
   U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000; Python's
   ``str.isspace``) and zero-width characters (U+200B-U+200D, U+2060, U+FEFF).
   If the text starts with TAB, CR or LF, or the first character after the lead is a trigger
   ``= + - @`` or its full-width form (U+FF1D, U+FF0B, U+FF0D, U+FF20), put an apostrophe
   ``'`` in front of the whole text (the text itself is kept).
3. A text longer than 32,767 characters (Excel's cell limit) is cut to 32,767 - len(TRUNCATION_MARK)
   characters followed by ``TRUNCATION_MARK``.
"""

from __future__ import annotations

import re

# Excel's limit for the text of one cell.
MAX_CELL_CHARS = 32_767
TRUNCATION_MARK = " [...texto cortado]"

# Characters XML 1.0 forbids (openpyxl raises on them) plus lone surrogates, which UTF-8 cannot encode.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a spreadsheet skips before reading a formula: whitespace (str.isspace) and zero-width characters.
LEADING_BLANKS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u200b\u200c\u200d\u2060\ufeff"
)
# A spreadsheet reads a cell starting with one of these (after the blanks) as a formula or DDE payload.
FORMULA_TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20"
# Controls that are triggers in the first position themselves.
LEADING_CONTROL_TRIGGERS = "\t\r\n"
_TRIGGERS = frozenset(FORMULA_TRIGGERS)
# A text whose first character is none of these cannot start like a formula (the common, fast case).
_SUSPICIOUS_FIRST = frozenset(LEADING_BLANKS + FORMULA_TRIGGERS)


def starts_like_formula(value: str) -> bool:
    """Step 2 of the rule: a leading TAB/CR/LF, or a trigger after the leading blanks."""
    if not value or value[0] not in _SUSPICIOUS_FIRST:
        return False
    if value[0] in LEADING_CONTROL_TRIGGERS:
        return True
    return value.lstrip(LEADING_BLANKS)[:1] in _TRIGGERS


def remove_illegal(value: str) -> str:
    """Step 1 of the rule: the text without XML-illegal characters (also what a PDF cannot hold)."""
    return _XML_ILLEGAL.sub("", value) if _XML_ILLEGAL.search(value) else value


def safe_text(value: str) -> str:
    """The text as it can be written to any cell: illegal characters removed, a formula trigger
    neutralised with a leading apostrophe, and anything over Excel's limit cut with a visible mark."""
    value = remove_illegal(value)
    if value and value[0] in _SUSPICIOUS_FIRST and starts_like_formula(value):
        value = "'" + value
    if len(value) > MAX_CELL_CHARS:
        value = value[: MAX_CELL_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return value
