"""Bulk loading with PostgreSQL COPY (demo data, benchmarks): one round trip per batch, not per row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine


def _csv_value(value: Any) -> Any:
    return r"\N" if value is None else value


def copy_rows(
    engine: Engine,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    batch_size: int = 10_000,
) -> int:
    """COPY ``rows`` into ``table``; NULL is written as ``\\N``. Returns the number of rows copied."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    total = 0
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SET LOCAL statement_timeout = 0")  # bulk loads may outlast the API's limit
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        pending = 0
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
            pending += 1
            if pending == batch_size:
                total += _flush(cursor, statement, buffer)
                buffer, pending = io.StringIO(), 0
                writer = csv.writer(buffer)
        if pending:
            total += _flush(cursor, statement, buffer)
        connection.commit()
    finally:
        connection.close()
    return total


def _flush(cursor: Any, statement: str, buffer: io.StringIO) -> int:
    buffer.seek(0)
    cursor.execute(statement, stream=buffer)
    return int(cursor.rowcount)
