"""批量事务 — many service calls in one database transaction, each call a savepoint.

For bulk work that runs alone (the demo builder, imports): the services run
unchanged, but their units of work share one connection. Guarantees:
- Each `with factory() as uow` is a SAVEPOINT: `commit()` releases it, leaving
  the block without it rolls back that call's writes only — exactly what a
  separate transaction would have kept or dropped.
- Nothing is durable until the batch itself commits; an exception out of the
  batch rolls every call back.
"""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy import Engine

from jxc.storage.uow import SqlUnitOfWork


class _Scope:
    """One service call's unit of work inside the batch: a savepoint on the shared connection."""

    def __init__(self, shared: SqlUnitOfWork) -> None:
        self._shared = shared
        self._savepoint: Any = None

    def __getattr__(self, name: str) -> Any:  # repositories of the shared unit of work
        return getattr(self._shared, name)

    def __enter__(self) -> Self:
        assert self._shared.conn is not None, "the batch is not open"
        self._savepoint = self._shared.conn.begin_nested()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._savepoint is not None and self._savepoint.is_active:
            self._shared.forget()
            self._savepoint.rollback()
        self._savepoint = None

    def commit(self) -> None:
        self._shared.flush()  # held-back writes belong to this call's savepoint
        self._savepoint.commit()

    def rollback(self) -> None:
        self._shared.forget()
        self._savepoint.rollback()


class SqlBatch:
    """`with SqlBatch(engine) as factory:` — call services with ``factory``; commits at the end."""

    def __init__(self, engine: Engine) -> None:
        self._shared = SqlUnitOfWork(engine)

    def __enter__(self) -> Any:
        self._shared.__enter__()
        return self.factory

    def factory(self) -> _Scope:
        return _Scope(self._shared)

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                self._shared.commit()
        finally:
            self._shared.__exit__()
