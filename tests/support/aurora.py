"""What Aurora PostgreSQL gives the stack, on the suite's PostgreSQL: a master login that is not a
superuser (NOSUPERUSER CREATEROLE CREATEDB, member of an ``rds_superuser``-like role) owning the
application's database, and Secrets Manager's single-user rotation steps run against real logins.

The suite's server trusts local connections, so a login succeeds whatever password it sends: the
passwords are checked against the server's stored SCRAM (or MD5) verifier instead."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from eduautismo.db.engine import normalize_database_url

# What Aurora grants rds_superuser beyond CREATEROLE/CREATEDB on its master: monitoring and signalling
# other sessions (pg_monitor, pg_signal_backend); never the superuser attribute.
RDS_SUPERUSER_GRANTS = ("pg_monitor", "pg_signal_backend")
ALTER_OWN_PASSWORD = (
    "SELECT format('ALTER USER %I WITH PASSWORD %L', CAST(:name AS text), CAST(:password AS text))"
)
EXCLUDED_CHARACTERS = "\"'@/\\%:?#[]{} "


def admin_engine(server_url: str) -> Engine:
    url, connect_args = normalize_database_url(server_url)
    return create_engine(url, connect_args=connect_args, isolation_level="AUTOCOMMIT")


def login_engine(database_url: str, username: str, password: str | None = None, **options: Any) -> Engine:
    url, connect_args = normalize_database_url(database_url)
    return create_engine(url.set(username=username, password=password), connect_args=connect_args, **options)


@dataclass(frozen=True)
class AuroraDatabase:
    server_url: str  # the suite's superuser: setup, cleanup and password checks only
    url: str  # the application's database, as the master
    master: str


@contextmanager
def aurora_database(server_url: str) -> Iterator[AuroraDatabase]:
    """A master login like Aurora's and a database it created (and so owns); everything is dropped after,
    with the roles created in it."""
    suffix = uuid.uuid4().hex[:8]
    master, group, name = f"aurora_master_{suffix}", f"rds_superuser_{suffix}", f"eduautismo_aurora_{suffix}"
    admin = admin_engine(server_url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {group} NOLOGIN")
        connection.exec_driver_sql(f"GRANT {', '.join(RDS_SUPERUSER_GRANTS)} TO {group}")
        connection.exec_driver_sql(
            f"CREATE ROLE {master} WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE NOREPLICATION"
        )
        connection.exec_driver_sql(f"GRANT {group} TO {master}")
    as_master = login_engine(server_url, master, isolation_level="AUTOCOMMIT")
    with as_master.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    as_master.dispose()
    url = make_url(server_url).set(username=master, database=name).render_as_string(hide_password=False)
    try:
        yield AuroraDatabase(server_url=server_url, url=url, master=master)
    finally:
        with admin.connect() as connection:
            created = connection.scalars(
                text("SELECT rolname FROM pg_roles WHERE rolname LIKE :pattern"), {"pattern": f"%\\_{suffix}"}
            ).all()
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            for role in sorted(created, key=lambda role: role in (master, group)):
                connection.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


def password_matches(server_url: str, username: str, password: str) -> bool:
    """Whether the server stores this password for the login (read as the suite's superuser)."""
    admin = admin_engine(server_url)
    with admin.connect() as connection:
        stored = connection.scalar(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :name"), {"name": username}
        )
    admin.dispose()
    if not stored:
        return False
    if stored.startswith("md5"):
        return bool(stored == "md5" + hashlib.md5((password + username).encode()).hexdigest())  # noqa: S324
    # SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (RFC 5802, as PostgreSQL stores it)
    _, iterations_salt, keys = stored.split("$")
    iterations, salt = iterations_salt.split(":")
    server_key = keys.split(":")[1]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    computed = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(computed).decode(), server_key)


def rotate_single_user(client: Any, secret_arn: str, database_url: str) -> str:
    """Secrets Manager's hosted PostgreSQL single-user rotation, step by step, against the database:
    createSecret (a new password as AWSPENDING), setSecret (log in as the login itself with the current
    password and change its own password in a transaction), testSecret (log in with the pending one),
    finishSecret (AWSCURRENT moves to it). Returns the new password."""
    token = str(uuid.uuid4())
    current = json.loads(
        client.get_secret_value(SecretId=secret_arn, VersionStage="AWSCURRENT")["SecretString"]
    )
    # createSecret
    pending = dict(
        current, password=client.get_random_password(ExcludeCharacters="\"'@/\\%:?#[]{} ")["RandomPassword"]
    )
    client.put_secret_value(
        SecretId=secret_arn,
        ClientRequestToken=token,
        SecretString=json.dumps(pending),
        VersionStages=["AWSPENDING"],
    )
    # setSecret: the hosted function quotes the name with quote_ident and runs ALTER USER, then commits
    as_login = login_engine(database_url, current["username"], current["password"])
    try:
        with as_login.begin() as connection:
            statement = connection.scalar(
                text(ALTER_OWN_PASSWORD),
                {"name": pending["username"], "password": pending["password"]},
            )
            connection.exec_driver_sql(str(statement))
    finally:
        as_login.dispose()
    # testSecret
    with_pending = login_engine(database_url, pending["username"], pending["password"])
    try:
        with with_pending.connect() as connection:
            connection.execute(text("SELECT now()"))
    finally:
        with_pending.dispose()
    # finishSecret
    old_version = next(
        version
        for version, stages in client.describe_secret(SecretId=secret_arn)["VersionIdsToStages"].items()
        if "AWSCURRENT" in stages
    )
    client.update_secret_version_stage(
        SecretId=secret_arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=old_version
    )
    return str(pending["password"])
