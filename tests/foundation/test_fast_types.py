"""The engine's date/timestamp decoders give exactly what pg8000's own would, only faster."""

from __future__ import annotations

import pytest
from pg8000 import converters
from sqlalchemy import Engine, text

CASES = [
    ("date", "2026-01-31", converters.date_in),
    ("date", "0044-03-15 BC", converters.date_in),
    ("date", "infinity", converters.date_in),
    ("timestamp", "2026-01-01 10:00:00", converters.timestamp_in),
    ("timestamp", "2026-01-01 10:00:00.000123", converters.timestamp_in),
    ("timestamptz", "2026-11-25 15:45:46.456864+00", converters.timestamptz_in),
    ("timestamptz", "2026-11-25 15:45:46+00", converters.timestamptz_in),
    ("timestamptz", "-infinity", converters.timestamptz_in),
]


@pytest.mark.parametrize(("type_name", "literal", "pg8000_decoder"), CASES)
def test_decoded_values_equal_pg8000s(
    migrated_engine: Engine, type_name: str, literal: str, pg8000_decoder: object
) -> None:
    # Given a value of each type as PostgreSQL prints it (the session time zone is UTC)
    with migrated_engine.connect() as connection:
        # When the engine reads it back
        decoded = connection.execute(text(f"SELECT CAST(:value AS {type_name})"), {"value": literal}).scalar()
        printed = connection.execute(
            text(f"SELECT CAST(CAST(:value AS {type_name}) AS text)"), {"value": literal}
        ).scalar()
    # Then it equals what pg8000's own decoder makes of the same text
    assert decoded == pg8000_decoder(printed)  # type: ignore[operator]
    assert type(decoded) is type(pg8000_decoder(printed))  # type: ignore[operator]


def test_offsets_other_than_utc_are_kept(migrated_engine: Engine) -> None:
    # Given a transaction in São Paulo's time zone (SET LOCAL: a session SET would outlive it)
    with migrated_engine.begin() as connection:
        connection.execute(text("SET LOCAL TIME ZONE 'America/Sao_Paulo'"))
        # When a timestamptz is read
        value = connection.execute(text("SELECT CAST('2026-03-10 15:00:00+00' AS timestamptz)")).scalar()
    # Then it carries the -03:00 offset and the same instant
    assert value.isoformat() == "2026-03-10T12:00:00-03:00"
