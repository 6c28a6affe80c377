"""权限检查 — one place that refuses an actor without the permission, the warehouse, or a fresh password."""

from __future__ import annotations

from jxc.domain.errors import Forbidden
from jxc.domain.permissions import holds
from jxc.services.posting import Actor


def require(actor: Actor, code: str, warehouse_id: int | None = None) -> None:
    """Refuse (403) unless the actor holds ``code`` and may work in the warehouse."""
    if not holds(actor.permissions, code):
        raise Forbidden("PERMISSION_DENIED", f"{actor.name} 没有权限：{code}，请联系老板开通",
                        f"{actor.name} lacks the permission {code}; ask the owner", field=None,
                        details={"permission": code})
    if warehouse_id is not None and actor.warehouses is not None and warehouse_id not in actor.warehouses:
        raise Forbidden("WAREHOUSE_NOT_PERMITTED", f"{actor.name} 无权操作该仓库/门店",
                        f"{actor.name} may not work in this warehouse or store", field="warehouse_id")


def require_reauth(actor: Actor) -> None:
    """敏感操作 — approvals, price and permission changes need the password entered again."""
    if not actor.reauthenticated:
        raise Forbidden("REAUTH_REQUIRED", "此操作需要再次输入密码确认", "confirm this action by entering your password again",
                        field="password")
