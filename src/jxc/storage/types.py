"""Column types that keep the books exact on every database.

- `Quantity` / `Money` / `UnitCost`: `Decimal` in Python. PostgreSQL stores
  NUMERIC; SQLite (which would store NUMERIC as a binary float) stores a
  scaled 64-bit integer, so that SUM() and the balance increments done in
  SQL stay exact there too.
- `UtcDateTime`: aware UTC datetimes in Python; timestamptz on PostgreSQL,
  naive UTC text on SQLite (sortable, compared as text).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine


class ScaledDecimal(TypeDecorator[Decimal]):
    impl = Numeric
    cache_ok = True

    def __init__(self, places: int, precision: int = 20) -> None:
        super().__init__()
        self.places = places
        self.precision = precision
        self.scale = 10**places
        self.quantum = Decimal(1).scaleb(-places)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.places, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return int((Decimal(value) * self.scale).to_integral_exact())
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / self.scale).quantize(self.quantum)
        return Decimal(value).quantize(self.quantum)

    @property
    def python_type(self) -> type:
        return Decimal

    def __repr__(self) -> str:  # how Alembic renders the type into a migration
        return f"ScaledDecimal({self.places})"


def Quantity() -> ScaledDecimal:  # noqa: N802 - reads as a type
    return ScaledDecimal(4)


def Money() -> ScaledDecimal:  # noqa: N802
    return ScaledDecimal(4)


def UnitCost() -> ScaledDecimal:  # noqa: N802
    return ScaledDecimal(6)


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"naive or non-datetime value for a UTC column: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
