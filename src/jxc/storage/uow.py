"""工作单元 — one unit of work is one database transaction.

Guarantees: nothing is written unless `commit()` is called; leaving the
block without it (or by an exception) rolls everything back — ledger,
balances, audit record and outbox event together. Writes a repository holds
back until the end (the order-sums deltas, written in key order) are flushed
by `commit()` inside the same transaction, and dropped by a rollback.
"""

from __future__ import annotations

from typing import Self

from sqlalchemy import Connection, Engine

from jxc.storage.api_repo import SqlApiRepository
from jxc.storage.book_settings import SqlSettingsRepository
from jxc.storage.chat_repo import SqlChatRepository
from jxc.storage.counting_repo import SqlCountingRepository
from jxc.storage.documents import SqlDocumentRepository
from jxc.storage.engine import WRITE, Driver
from jxc.storage.ingest_repo import SqlIngestRepository
from jxc.storage.money_repo import SqlMoneyRepository
from jxc.storage.purchasing_repo import SqlPurchasingRepository
from jxc.storage.report_sums import SqlReportSumsRepository
from jxc.storage.repositories import (
    SqlAuditLog,
    SqlBalanceRepository,
    SqlBookRepository,
    SqlMasterDataRepository,
    SqlOutbox,
    SqlPeriodRepository,
    SqlPostingRepository,
    SqlRecordStore,
)
from jxc.storage.reservations_repo import SqlReservationRepository
from jxc.storage.trade_repo import SqlTradeRepository


class SqlUnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None

    def __enter__(self) -> Self:
        conn = self.engine.connect().execution_options(**WRITE)
        conn.begin()
        self.conn = conn
        drv = Driver(conn)  # the posting path's statements run on the driver cursor (engine.py)
        self.postings = SqlPostingRepository(conn, drv)
        self.balances = SqlBalanceRepository(conn, drv)
        self.masterdata = SqlMasterDataRepository(conn, drv)
        self.book = SqlBookRepository(conn, drv)
        self.periods = SqlPeriodRepository(conn)
        self.audit = SqlAuditLog(conn, self.book)
        self.outbox = SqlOutbox(conn, drv)
        self.records = SqlRecordStore(conn)
        self.documents = SqlDocumentRepository(conn)
        self.settings = SqlSettingsRepository(conn)
        self.api = SqlApiRepository(conn)
        self.reservations = SqlReservationRepository(conn, drv)
        self.trade = SqlTradeRepository(conn)
        self.counting = SqlCountingRepository(conn)
        self.chat = SqlChatRepository(conn)
        self.ingest = SqlIngestRepository(conn)
        self.money = SqlMoneyRepository(conn)
        self.purchasing = SqlPurchasingRepository(conn)
        self.report_sums = SqlReportSumsRepository(conn, drv)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.conn is not None
        try:
            self.forget()
            if self.conn.in_transaction():
                self.conn.rollback()
        finally:
            self.conn.close()
            self.conn = None

    def flush(self) -> None:
        """Write what repositories hold back until commit: the order-fulfilment sums (订单完成汇总)."""
        self.trade.sums.flush()

    def forget(self) -> None:
        self.trade.sums.discard()

    def commit(self) -> None:
        assert self.conn is not None
        self.flush()
        self.conn.commit()

    def rollback(self) -> None:
        assert self.conn is not None
        self.forget()
        self.conn.rollback()
