"""Faster pg8000 decoders for dates and timestamps.

pg8000 parses every ``date``/``timestamptz`` value with ``strptime`` (tens of microseconds each): on a
50-plan page that is most of the client-side cost. ``fromisoformat`` (C) reads PostgreSQL's ISO output
directly; anything it does not read (infinity, BC dates, years past 9999) falls back to pg8000's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pg8000 import converters

DATE_OID = 1082
TIMESTAMP_OID = 1114
TIMESTAMPTZ_OID = 1184


def _iso_or(fallback: Callable[[str], Any], parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def decode(text: str) -> Any:
        try:
            return parse(text)
        except ValueError:
            return fallback(text)

    return decode


FAST_DECODERS: dict[int, Callable[[str], Any]] = {
    DATE_OID: _iso_or(converters.date_in, date.fromisoformat),
    TIMESTAMP_OID: _iso_or(converters.timestamp_in, datetime.fromisoformat),
    TIMESTAMPTZ_OID: _iso_or(converters.timestamptz_in, datetime.fromisoformat),
}


def register_fast_decoders(dbapi_connection: Any) -> None:
    for oid, decode in FAST_DECODERS.items():
        dbapi_connection.register_in_adapter(oid, decode)
