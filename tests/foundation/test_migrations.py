"""Migrations equal the models, and upgrade -> downgrade -> upgrade works on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect

from eduautismo.db.engine import normalize_database_url
from eduautismo.db.migrate import downgrade, upgrade
from eduautismo.db.models import Base
from tests.support import services


def test_autogenerate_finds_no_difference_between_migrations_and_models(migrated_engine: Engine) -> None:
    # Given the database migrated to head
    with migrated_engine.connect() as connection:
        # When alembic compares it with the ORM models
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    # Then there is nothing left to migrate
    assert differences == []


def test_upgrade_downgrade_upgrade_round_trip(service_urls: dict[str, str]) -> None:
    # Given an empty private database
    url = services.create_private_database(service_urls["server"], prefix="eduautismo_migrations")
    engine_url, connect_args = normalize_database_url(url)
    engine = create_engine(engine_url, connect_args=connect_args)
    try:
        # When it is upgraded, downgraded to base and upgraded again
        upgrade(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        downgrade(engine)
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        upgrade(engine)
        # Then every table of the models exists again
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
        services.drop_database(service_urls["server"], url)
