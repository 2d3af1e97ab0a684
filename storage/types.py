"""Column types shared by the models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

# How SQLAlchemy's SQLite dialect stores a datetime, as text that sorts as time does.
SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend; naive values are refused so no local time slips in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = _utc(value)
        # SQLite has no time zone type: store the UTC wall time and restore the zone when reading.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """On SQLite, the check above and the dialect's own text in one step, where SQLAlchemy would
        run them one after the other: 0.7 µs a value instead of 1.9, and a planning pass binds 9,000.
        tests/storage/test_schema.py holds the text to the dialect's."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def stored(value: datetime | None) -> str | None:
            if value is None:
                return None
            utc = _utc(value)
            return SQLITE_DATETIME % (
                utc.year,
                utc.month,
                utc.day,
                utc.hour,
                utc.minute,
                utc.second,
                utc.microsecond,
            )

        return stored

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
    return value.astimezone(UTC)


class Latest(FunctionElement[datetime]):
    """The latest of several moments, none of them NULL: `max()` on SQLite, `greatest()` on PostgreSQL.

    An index on it serves a query only when the query spells the very same expression, so the model's
    index and the query are both built from this one construct. (A migration spells it out as text;
    tests/jobs/test_question_planner.py fails when the two part.)
    """

    type = UTCDateTime()
    inherit_cache = True


@compiles(Latest, "sqlite")
def _latest_sqlite(element: Latest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(Latest, "postgresql")
def _latest_postgresql(element: Latest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"greatest({compiler.process(element.clauses, **kw)})"
