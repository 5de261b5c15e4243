"""Cell safety for both formats: no formula injection, no XML-illegal characters, no silent truncation."""

from __future__ import annotations

import re

# Excel's limit for the text of one cell.
MAX_CELL_CHARS = 32_767
TRUNCATION_MARK = " [...texto cortado]"

# A spreadsheet reads a cell starting with one of these as a formula (or DDE payload).
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Characters XML 1.0 forbids (openpyxl raises on them) plus lone surrogates, which UTF-8 cannot encode.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def safe_text(value: str) -> str:
    """The text as it can be written to any cell: illegal characters removed, a formula trigger
    neutralised with a leading apostrophe, and anything over Excel's limit cut with a visible mark."""
    if _XML_ILLEGAL.search(value):
        value = _XML_ILLEGAL.sub("", value)
    if value.startswith(_FORMULA_TRIGGERS):
        value = "'" + value
    if len(value) > MAX_CELL_CHARS:
        value = value[: MAX_CELL_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return value
