"""幂等请求 — an Idempotency-Key makes a POST safe to retry: the first response is stored.

Guarantees (I7 at the HTTP boundary):
- The first request with a key (per caller) owns it; its response is stored
  unless it failed with a server error, in which case the key is released.
- A repeat with the same key and the same method, path and body gets the
  stored response (status and body) and causes no second effect.
- A repeat with a different body or path is refused (422 IDEMPOTENCY_MISMATCH);
  a repeat while the first is still running is refused (409 IDEMPOTENCY_IN_PROGRESS).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jxc.domain.errors import Conflict, DomainError
from jxc.services.ports import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
MAX_KEY = 200


class Unprocessable(DomainError):
    status = 422


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def begin(f: UowFactory, scope: str, key: str, method: str, path: str, body: bytes,
          now: datetime) -> Replay | None:
    """Own the key (None: go ahead) or get the stored response to replay."""
    if not key.strip() or len(key) > MAX_KEY:
        raise Unprocessable("VALUE_INVALID", f"Idempotency-Key 须为 1–{MAX_KEY} 个字符",
                            f"Idempotency-Key must have 1–{MAX_KEY} characters", field="Idempotency-Key")
    digest = fingerprint(method, path, body)
    with f() as uow:
        existing = uow.api.claim_key({"scope": scope, "key": key, "method": method, "path": path,
                                      "request_hash": digest, "created_at": now})
        uow.commit()
    if existing is None:
        return None
    if existing["request_hash"] != digest:
        raise Unprocessable(
            "IDEMPOTENCY_MISMATCH",
            f"幂等键 {key} 已用于另一个不同的请求（{existing['method']} {existing['path']}），请换一个新的键",
            f"idempotency key {key} was used for a different request ({existing['method']} "
            f"{existing['path']}); use a new key", field="Idempotency-Key")
    if existing["status"] is None:
        raise Conflict("IDEMPOTENCY_IN_PROGRESS", f"使用幂等键 {key} 的请求仍在处理中，请稍后重试",
                       f"a request with idempotency key {key} is still being processed; retry shortly",
                       field="Idempotency-Key")
    return Replay(existing["status"], existing["response"] or "")


def finish(f: UowFactory, scope: str, key: str, status: int, body: str) -> None:
    """Store the first response (a 5xx releases the key instead: the retry may succeed)."""
    with f() as uow:
        if status >= 500:
            uow.api.drop_key(scope, key)
        else:
            uow.api.finish_key(scope, key, status, body)
        uow.commit()
