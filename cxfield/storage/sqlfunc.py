"""SQL that reads the same on SQLite (the laptop) and PostgreSQL (the hub's projection of
synced rows, :mod:`cxfield.hub.projection`), so one aggregate query serves both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class json_field(FunctionElement[str]):  # noqa: N801 - reads like a SQL function
    """The text value of ``key`` in a JSON object stored as text (NULL when absent).

    The key is checked by the caller (letters, digits, ``_``) and written into the SQL."""

    type = String()
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], key: str) -> None:
        self.key = key
        super().__init__(column)


@compiles(json_field)
def _json_field_sqlite(element: json_field, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"json_extract({column}, '$.\"{element.key}\"')"


@compiles(json_field, "postgresql")
def _json_field_pg(element: json_field, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"(CAST({column} AS jsonb) ->> '{element.key}')"


class seconds_between(FunctionElement[float]):  # noqa: N801
    """Seconds from one ISO-8601 UTC time (stored as text) to another."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"CAST(EXTRACT(EPOCH FROM (CAST({end} AS timestamptz) - CAST({start} AS timestamptz)))"
        " AS double precision)"
    )
