"""运维 — webhook endpoints and deliveries (dead letters, retry, discard), the operations view as
JSON (/api/v1/ops) and as Prometheus text (/metrics). Owners only (`settings.edit`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp
from jxc.interfaces.api.render import plain
from jxc.services import auth, webhooks

router = APIRouter(tags=["operations"])
MANAGE = "settings.edit"


class EndpointIn(BaseModel):
    url: str = Field(min_length=1, max_length=500, description="https:// (http:// only for 127.0.0.1)")
    event_types: list[str] = Field(min_length=1, max_length=50, description="e.g. stock.posted, document.*, *")
    format: str = Field("json", description="json / dingtalk / wecom (group robots)")


@router.get("/api/v1/webhooks")
def list_endpoints(actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """Webhook 端点 — without their secrets."""
    return {"items": plain(webhooks.endpoints(app.uow_factory, actor)), "next_cursor": None}


@router.post("/api/v1/webhooks", status_code=201)
def register(body: EndpointIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """登记端点 — the signing secret is in this answer only."""
    eid, secret = webhooks.register(app.uow_factory, body.url, body.event_types, actor, app.clock.now(), body.format)
    return {"id": eid, "secret": secret, "url": body.url, "event_types": sorted(set(body.event_types))}


@router.post("/api/v1/webhooks/{endpoint_id}/disable")
def disable(endpoint_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    webhooks.set_active(app.uow_factory, endpoint_id, False, actor, app.clock.now())
    return {"id": endpoint_id, "active": False}


@router.post("/api/v1/webhooks/{endpoint_id}/enable")
def enable(endpoint_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    webhooks.set_active(app.uow_factory, endpoint_id, True, actor, app.clock.now())
    return {"id": endpoint_id, "active": True}


@router.get("/api/v1/webhooks/deliveries")
def deliveries(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
               state: Annotated[str | None, Query(pattern="^(pending|delivered|dead|discarded)$")] = None
               ) -> dict[str, Any]:
    """投递记录 — `state=dead` is the dead-letter list."""
    auth.require_permission(actor, MANAGE)
    return pg.by_id(app.queries.page_deliveries(pg.decode(cursor, "id"), limit + 1, state), limit, plain)


@router.post("/api/v1/webhooks/deliveries/{delivery_id}/retry")
def retry(delivery_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """重发 — back to the queue, due now (audited)."""
    webhooks.retry(app.uow_factory, delivery_id, actor, app.clock.now())
    return {"id": delivery_id, "state": "pending"}


@router.post("/api/v1/webhooks/deliveries/{delivery_id}/discard")
def discard(delivery_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """丢弃 — give up on a stuck delivery (audited)."""
    webhooks.discard(app.uow_factory, delivery_id, actor, app.clock.now())
    return {"id": delivery_id, "state": "discarded"}


def _held_open(app: Any) -> int:
    """POS/channel sales held for want of stock whose draft is not posted yet (the exception list)."""
    rows = app.queries.page_ingest(None, 10_000, status="held")
    return sum(1 for r in rows if r["document_state"] not in ("posted", "reversed", "cancelled"))


@router.get("/api/v1/ops")
def operations(request: Request, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """运行状况 — queue depth, oldest undelivered event age, failures, dead letters, webhook endpoint
    latency, this server process's latency per API route, and open POS/channel stock exceptions."""
    auth.require_permission(actor, MANAGE)
    return {**app.queries.operations(app.clock.now()), "http": request.app.state.metrics.snapshot(),
            "ingest": {"held_open": _held_open(app)}}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, actor: CurrentActor, app: JxcApp) -> str:
    """Prometheus text format of the operations view (scrape with a bearer token)."""
    auth.require_permission(actor, MANAGE)
    ops = app.queries.operations(app.clock.now())
    lines = ["# TYPE jxc_outbox_depth gauge", f"jxc_outbox_depth {ops['outbox']['depth']}",
             "# TYPE jxc_outbox_oldest_age_seconds gauge",
             f"jxc_outbox_oldest_age_seconds {ops['outbox']['oldest_undelivered_age_s']}",
             "# TYPE jxc_webhook_deliveries gauge"]
    lines += [f'jxc_webhook_deliveries{{state="{k}"}} {v}' for k, v in ops["webhooks"].items()]
    lines += ["# TYPE jxc_webhook_latency_ms_avg gauge"]
    lines += [f'jxc_webhook_latency_ms_avg{{endpoint="{e["id"]}"}} {e["latency_ms_avg"] or 0}' for e in ops["endpoints"]]
    lines += ["# TYPE jxc_webhook_consecutive_failures gauge"]
    lines += [f'jxc_webhook_consecutive_failures{{endpoint="{e["id"]}"}} {e["consecutive_failures"]}'
              for e in ops["endpoints"]]
    lines += ["# TYPE jxc_ingest_held_open gauge", f"jxc_ingest_held_open {_held_open(app)}"]
    lines += request.app.state.metrics.prometheus()
    return "\n".join(lines) + "\n"
