"""Webhook — owners' HTTPS endpoints per event type: signed deliveries, retries, dead letters, replay.

Guarantees:
- Every delivery is signed: `X-Jxc-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
  and carries the event id (`X-Jxc-Event-Id`) receivers dedupe on.
- A failed attempt is retried with exponential backoff and full jitter; after
  `max_attempts` failures the delivery is a dead letter. An owner may replay
  or discard it; both are audited.
- Per endpoint, events of one aggregate are sent in order: a later one waits
  while an earlier one is pending (including retries).
- A claimed delivery is leased: a worker killed while sending leaves it to be
  sent again after the lease, with the same event id (at least once).
- The second consecutive failure of an endpoint raises one `integration.alert`
  event (DingTalk / WeCom group robots can subscribe to it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from jxc.domain.errors import Conflict, DomainError, NotFound
from jxc.services.auth import require_permission
from jxc.services.ports import AuditEntry, OutboxMessage, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
FORMATS = ("json", "dingtalk", "wecom")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MANAGE = "settings.edit"


class Transport(Protocol):
    """HTTP POST: return the status code, raise OSError (or a subclass) when nothing came back."""

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(seconds=60)
    timeout_s: float = 5.0

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        """Full jitter: uniform in [0, min(cap, base·2^(attempts-1))], at least one second."""
        ceiling = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** max(0, attempts - 1))
        return timedelta(seconds=max(1.0, rng.uniform(0, ceiling)))


def subscribes(endpoint: Mapping[str, Any], event_type: str) -> bool:
    types = json.loads(endpoint["event_types"])
    return "*" in types or event_type in types or any(t.endswith(".*") and event_type.startswith(t[:-1]) for t in types)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now_ts: int, tolerance_s: int = 300) -> bool:
    """What a receiver does: recompute the signature and refuse old timestamps (replay attacks)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return abs(now_ts - ts) <= tolerance_s and hmac.compare_digest(sign(secret, ts, body), header)


def register(f: UowFactory, url: str, event_types: Iterable[str], actor: Actor, now: datetime,
             fmt: str = "json") -> tuple[int, str]:
    """登记端点 — returns (id, secret); the secret signs every delivery."""
    require_permission(actor, MANAGE)
    parts = urlsplit(url or "")
    if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)) or not parts.hostname:
        raise DomainError("WEBHOOK_URL_INVALID", "Webhook 地址必须是 https://（本机测试可用 http://127.0.0.1）",
                          "a webhook URL must be https:// (http:// only for 127.0.0.1)", field="url")
    types = sorted(set(event_types))
    if not types or fmt not in FORMATS:
        raise DomainError("VALUE_INVALID", f"请至少选择一种事件类型；格式可选 {', '.join(FORMATS)}",
                          f"choose at least one event type; format is one of {', '.join(FORMATS)}", field="event_types")
    secret = "whsec_" + secrets.token_urlsafe(24)
    with f() as uow:
        eid = uow.api.add_endpoint({"url": url, "secret": secret, "event_types": json.dumps(types), "format": fmt,
                                    "active": True, "consecutive_failures": 0, "created_by": actor.name,
                                    "created_at": now})
        uow.audit.append(AuditEntry("webhook.register", "webhook_endpoint", str(eid), actor.name, now, None,
                                    {"url": url, "event_types": types, "format": fmt}, actor.ip, actor.device))
        uow.commit()
    return eid, secret


def set_active(f: UowFactory, endpoint_id: int, active: bool, actor: Actor, now: datetime) -> None:
    require_permission(actor, MANAGE)
    with f() as uow:
        row = uow.api.endpoint(endpoint_id)
        if row is None:
            raise NotFound("NOT_FOUND", f"Webhook 端点 {endpoint_id} 不存在", f"no webhook endpoint {endpoint_id}",
                           field="endpoint_id")
        uow.api.update_endpoint(endpoint_id, {"active": active, "consecutive_failures": 0})
        uow.audit.append(AuditEntry("webhook.active", "webhook_endpoint", str(endpoint_id), actor.name, now,
                                    {"active": bool(row["active"])}, {"active": active}, actor.ip, actor.device))
        uow.commit()


def endpoints(f: UowFactory, actor: Actor) -> list[dict[str, Any]]:
    require_permission(actor, MANAGE)
    with f() as uow:
        rows = uow.api.endpoints()
    return [{**{k: v for k, v in r.items() if k != "secret"}, "event_types": json.loads(r["event_types"])}
            for r in rows]


def body_for(job: Mapping[str, Any]) -> bytes:
    """The request body: our JSON envelope, or a group-robot text message for DingTalk / WeCom."""
    event = {"id": job["event_id"], "type": job["event_type"], "aggregate": job["aggregate"],
             "aggregate_id": job["aggregate_id"], "created_at": str(job["event_created_at"]), "data": job["payload"]}
    if job["format"] in ("dingtalk", "wecom"):
        p = job["payload"]
        text = p.get("message_zh") or f"进销存事件 {job['event_type']} #{job['event_id']}"
        event = {"msgtype": "text", "text": {"content": f"【进销存】{text}"}}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def claim_due(f: UowFactory, now: datetime, policy: RetryPolicy, limit: int = 20) -> list[dict[str, Any]]:
    """Lease due deliveries (one short transaction); the HTTP calls happen outside it."""
    with f() as uow:
        jobs = uow.api.due_deliveries(now, limit)
        for job in jobs:
            uow.api.update_delivery(job["id"], {"next_attempt_at": now + policy.lease, "attempts": job["attempts"] + 1})
        uow.commit()
    return jobs


def send(job: Mapping[str, Any], transport: Transport, now_ts: int, policy: RetryPolicy) -> tuple[bool, int | None, str | None]:
    body = body_for(job)
    headers = {"Content-Type": "application/json", "User-Agent": "jxc-webhooks/1",
               "X-Jxc-Event-Id": str(job["event_id"]), "X-Jxc-Event-Type": job["event_type"],
               "X-Jxc-Delivery-Id": str(job["id"]), "X-Jxc-Signature": sign(job["secret"], now_ts, body)}
    try:
        status = transport(job["url"], body, headers, policy.timeout_s)
    except OSError as exc:
        return False, None, f"{type(exc).__name__}: {exc}"[:500]
    return 200 <= status < 300, status, None if 200 <= status < 300 else f"HTTP {status}"


def record(f: UowFactory, job: Mapping[str, Any], ok: bool, status: int | None, error: str | None,
           latency_ms: int, now: datetime, policy: RetryPolicy, rng: random.Random) -> str:
    """Write the attempt's outcome; return the delivery's new state."""
    attempts = job["attempts"] + 1
    with f() as uow:
        endpoint = uow.api.endpoint(job["endpoint_id"])
        assert endpoint is not None
        common = {"last_status": status, "last_error": error, "last_latency_ms": latency_ms}
        if ok:
            state = "delivered"
            uow.api.update_delivery(job["id"], {**common, "state": state, "delivered_at": now})
            uow.api.update_endpoint(endpoint["id"], {"consecutive_failures": 0})
        else:
            state = "dead" if attempts >= policy.max_attempts else "pending"
            uow.api.update_delivery(job["id"], {**common, "state": state,
                                                "next_attempt_at": now + policy.delay(attempts, rng)})
            failures = endpoint["consecutive_failures"] + 1
            uow.api.update_endpoint(endpoint["id"], {"consecutive_failures": failures})
            if failures == 2:
                uow.outbox.add(OutboxMessage("integration.alert", "webhook_endpoint", str(endpoint["id"]), {
                    "endpoint_id": endpoint["id"], "url": endpoint["url"], "failures": failures, "last_error": error,
                    "message_zh": f"集成告警：Webhook {endpoint['url']} 已连续失败 {failures} 次（{error}）",
                    "message_en": f"integration alert: webhook {endpoint['url']} failed {failures} times in a row"},
                    now))
        uow.commit()
    return state


def retry(f: UowFactory, delivery_id: int, actor: Actor, now: datetime) -> None:
    """重发 — a dead (or discarded, or failing) delivery goes back to the queue, due now."""
    _manual(f, delivery_id, actor, now, "webhook.replay", {"dead", "discarded", "pending"},
            {"state": "pending", "attempts": 0, "next_attempt_at": now})


def discard(f: UowFactory, delivery_id: int, actor: Actor, now: datetime) -> None:
    """丢弃 — a stuck or dead delivery is given up on (it stays on record)."""
    _manual(f, delivery_id, actor, now, "webhook.discard", {"dead", "pending"}, {"state": "discarded"})


def _manual(f: UowFactory, delivery_id: int, actor: Actor, now: datetime, action: str, allowed: set[str],
            values: dict[str, Any]) -> None:
    require_permission(actor, MANAGE)
    with f() as uow:
        row = uow.api.delivery(delivery_id)
        if row is None:
            raise NotFound("NOT_FOUND", f"投递 {delivery_id} 不存在", f"no delivery {delivery_id}", field="delivery_id")
        if row["state"] not in allowed:
            raise Conflict("DELIVERY_NOT_RETRYABLE", f"投递 {delivery_id} 当前状态为 {row['state']}，不能执行此操作",
                           f"delivery {delivery_id} is {row['state']}; this action does not apply", field="state")
        uow.api.update_delivery(delivery_id, values)
        uow.audit.append(AuditEntry(action, "webhook_delivery", str(delivery_id), actor.name, now,
                                    {"state": row["state"], "attempts": row["attempts"]}, {"state": values["state"]},
                                    actor.ip, actor.device))
        uow.commit()
