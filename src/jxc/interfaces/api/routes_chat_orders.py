"""社群订单接口 — parse a pasted chat message, draft a sales order from it, teach and forget aliases.

The routes call services/chat_intake.py with the book's catalog cache (`App.chat_catalog`);
the web form calls the same service functions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp
from jxc.services import chat_intake as ci

router = APIRouter(prefix="/api/v1/chat-orders", tags=["chat-orders"])
DbId = Field(ge=1, le=2**31 - 1)
Text = Field(min_length=1, max_length=ci.MAX_TEXT, description="the customer's message as pasted 顾客消息")


class ParseIn(BaseModel):
    text: str = Text
    warehouse_id: int | None = Field(None, ge=1, le=2**31 - 1, description="for availability per line 仓库")


class CorrectionIn(BaseModel):
    line: int = Field(ge=1, le=1000, description="index of the parsed line")
    product_id: int = DbId


class ChatOrderIn(BaseModel):
    text: str = Text
    warehouse_id: int = DbId
    customer_id: int | None = Field(None, ge=1, le=2**31 - 1, description="omit to use the guessed customer")
    accept: list[Annotated[int, Field(ge=1, le=1000)]] = Field(
        default_factory=list, max_length=200, description="indexes of needs_decision lines to put on the order")
    remark: str | None = Field(None, max_length=500)
    corrections: list[CorrectionIn] = Field(
        default_factory=list, max_length=100,
        description="this line is that product: remembered as an alias, then the message is parsed again")


class AliasIn(BaseModel):
    alias: str = Field(min_length=1, max_length=ci.MAX_ALIAS, description="the customer's words 顾客的说法")
    product_id: int = DbId
    message: str | None = Field(None, max_length=ci.MAX_TEXT, description="the message it was corrected on")


def _today(app: Any) -> Any:
    return app.clock.now().astimezone(app.settings.zone).date()


@router.post("/parse")
def parse(body: ParseIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """解析 — lines with confidence, evidence, alternatives and availability, the customer guess,
    or why the message is not an order. Writes nothing."""
    result = ci.parse_message(app.uow_factory, app.chat_catalog, body.text, actor, app.clock.now(),
                              body.warehouse_id, _today(app))
    return result.to_json()


@router.post("", status_code=201)
def create(body: ChatOrderIn, actor: CurrentActor, app: JxcApp, response: Response) -> dict[str, Any]:
    """下草稿订单 — a DRAFT sales order with the lines the parser is sure of plus the accepted ones (201);
    200 with `created: false` and the reason when nothing was created (not an order, or every line
    needs a decision); 422 CHAT_CUSTOMER_UNKNOWN with the candidates when the customer is unclear."""
    draft = ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput(
        body.text, body.warehouse_id, body.customer_id, tuple(body.accept), body.remark,
        tuple((c.line, c.product_id) for c in body.corrections)), actor, app.clock.now(),
        _today(app))
    if draft.order_id is None:
        response.status_code = 200
    return draft.to_json()


@router.get("/aliases")
def aliases(actor: CurrentActor, app: JxcApp, limit: pg.Limit = 500,
            product_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
            include_inactive: bool = False) -> list[dict[str, Any]]:
    """学到的别名 — what clerks taught the parser, with who and when (oldest first)."""
    return ci.list_aliases(app.uow_factory, actor, product_id, include_inactive, limit)


@router.post("/aliases", status_code=201)
def record_alias(body: AliasIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """记住更正 — the customer's words mean this product from now on (overrides an earlier alias)."""
    return ci.record_alias(app.uow_factory, app.chat_catalog, body.alias, body.product_id, actor, app.clock.now(),
                           body.message)


@router.delete("/aliases/{alias_id}")
def delete_alias(alias_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """忘记别名 — deactivate a learned alias; its history stays in the audit log."""
    return ci.delete_alias(app.uow_factory, app.chat_catalog, alias_id, actor, app.clock.now())
