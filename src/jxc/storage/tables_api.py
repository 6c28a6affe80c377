"""接口与事件表 — sessions, login throttling, idempotency records, webhooks and delivery state.

These tables belong to the HTTP API, the outbox worker and webhooks (issue 6). They live on
the shared `metadata`; `tables.py` imports this module so that `metadata` is complete.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from jxc.storage.tables import metadata, outbox_events
from jxc.storage.types import UtcDateTime

# 会话 — a web-UI login; the cookie holds the secret, the row only its sha256.
web_sessions = Table(
    "web_sessions", metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie secret
    Column("username", String(64), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ip", String(64), nullable=True),
    Column("device", String(200), nullable=True),
)

# 登录限流 — failed logins per user name (and per client address), and the lockout.
login_throttles = Table(
    "login_throttles", metadata,
    Column("key", String(128), primary_key=True),  # "user:<name>" or "ip:<address>"
    Column("failures", Integer, nullable=False, default=0),
    Column("window_started_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime, nullable=True),
)

# 幂等记录 — the first response to a POST with an Idempotency-Key, per caller.
idempotency_records = Table(
    "idempotency_records", metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(64), nullable=False),  # who asked: sha256 of the caller's identity
    Column("key", String(200), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(300), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=True),  # NULL while the first request is in progress
    Column("response", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("scope", "key", name="uq_idempotency_records_scope_key"),
)

# Webhook 端点 — an owner's HTTPS endpoint for some event types; the secret signs deliveries.
webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(500), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("event_types", Text, nullable=False),  # JSON list; "*" matches every type
    Column("format", String(16), nullable=False, default="json"),  # json / dingtalk / wecom
    Column("active", Boolean, nullable=False, default=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# 投递 — one event to one endpoint: pending → delivered | dead (→ replayed | discarded).
webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", Integer, primary_key=True),
    Column("endpoint_id", ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_latency_ms", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
    Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
)

# The worker claims the oldest undelivered event of each aggregate: this index answers
# "is there an earlier undelivered event of the same aggregate?" without a scan.
Index("ix_outbox_events_aggregate", outbox_events.c.aggregate, outbox_events.c.aggregate_id,
      outbox_events.c.id)
