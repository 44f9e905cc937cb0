"""A fresh PostgreSQL database per test, on the server that ``pg_virtualenv`` started.

``./dev.sh test`` runs pytest inside ``pg_virtualenv``, which sets PGHOST, PGPORT, PGUSER,
PGPASSWORD and PGDATABASE.  Without them the PostgreSQL tests are skipped — unless
``CXFIELD_REQUIRE_PG=1`` (CI), where a missing server is a failure, not a skip."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

REQUIRE_ENV = "CXFIELD_REQUIRE_PG"


def pg_available() -> bool:
    return bool(os.environ.get("PGHOST") and os.environ.get("PGPORT"))


def skip_without_pg() -> None:
    if pg_available():
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(
            f"{REQUIRE_ENV}=1 but no PostgreSQL server: run the tests with `./dev.sh test` "
            "(pg_virtualenv sets PGHOST/PGPORT/PGUSER/PGPASSWORD)."
        )
    pytest.skip("no PostgreSQL server (PGHOST/PGPORT unset; ./dev.sh test starts one)")


def _admin_connect() -> object:
    import psycopg

    return psycopg.connect(dbname=os.environ.get("PGDATABASE", "postgres"), autocommit=True)


def url_for(dbname: str) -> str:
    user = quote(os.environ.get("PGUSER", "postgres"), safe="")
    password = os.environ.get("PGPASSWORD")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host, port = os.environ.get("PGHOST", "localhost"), os.environ["PGPORT"]
    if host.startswith("/"):  # a socket directory
        return f"postgresql+psycopg://{auth}@/{dbname}?host={quote(host, safe='')}&port={port}"
    return f"postgresql+psycopg://{auth}@{host}:{port}/{dbname}"


def create_database() -> tuple[str, str]:
    """A new, empty database; returns (name, SQLAlchemy URL)."""
    name = f"cxf_test_{uuid.uuid4().hex[:12]}"
    with _admin_connect() as conn:  # type: ignore[attr-defined]
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, url_for(name)


def drop_database(name: str) -> None:
    with _admin_connect() as conn:  # type: ignore[attr-defined]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped after the test."""
    skip_without_pg()
    name, url = create_database()
    try:
        yield url
    finally:
        drop_database(name)
