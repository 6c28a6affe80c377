"""请求指标 — per-route request counts, latency (histogram, average, max) and status classes.

Kept in memory per server process (each `jxc serve` process reports its own; Prometheus sums
them across targets). Routes are labelled by their template (`/api/v1/documents/{doc_id}`), never
by the raw path, so the number of series stays bounded; unknown paths share `unmatched`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class _Series:
    count: int = 0
    total_s: float = 0.0
    max_s: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS_S))
    statuses: dict[str, int] = field(default_factory=dict)


class RequestMetrics:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.series: dict[tuple[str, str], _Series] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self.lock:
            s = self.series.setdefault((method, route), _Series())
            s.count += 1
            s.total_s += seconds
            s.max_s = max(s.max_s, seconds)
            for i, bound in enumerate(BUCKETS_S):
                if seconds <= bound:
                    s.buckets[i] += 1
            klass = f"{status // 100}xx"
            s.statuses[klass] = s.statuses.get(klass, 0) + 1

    def snapshot(self) -> list[dict[str, Any]]:
        """Per route: count, average / p95 (bucket upper bound) / max in ms, answers by status class."""
        with self.lock:
            items = sorted(self.series.items())
            out = []
            for (method, route), s in items:
                p95 = next((b for b, n in zip(BUCKETS_S, s.buckets, strict=True) if n >= 0.95 * s.count), None)
                out.append({"method": method, "route": route, "count": s.count,
                            "latency_ms_avg": round(s.total_s / s.count * 1000, 2),
                            "latency_ms_p95_le": None if p95 is None else p95 * 1000,
                            "latency_ms_max": round(s.max_s * 1000, 2), "statuses": dict(s.statuses)})
            return out

    def prometheus(self) -> list[str]:
        lines = ["# TYPE jxc_http_request_duration_seconds histogram"]
        with self.lock:
            items = sorted(self.series.items())
            for (method, route), s in items:
                labels = f'method="{method}",route="{route}"'
                lines += [f'jxc_http_request_duration_seconds_bucket{{{labels},le="{b}"}} {n}'
                          for b, n in zip(BUCKETS_S, s.buckets, strict=True)]
                lines += [f'jxc_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {s.count}',
                          f"jxc_http_request_duration_seconds_sum{{{labels}}} {s.total_s:.6f}",
                          f"jxc_http_request_duration_seconds_count{{{labels}}} {s.count}"]
            lines.append("# TYPE jxc_http_responses_total counter")
            for (method, route), s in items:
                lines += [f'jxc_http_responses_total{{method="{method}",route="{route}",status="{k}"}} {v}'
                          for k, v in sorted(s.statuses.items())]
        return lines


class MetricsMiddleware:
    """Times every HTTP request (WebSockets excluded) and records it under its route template."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)
