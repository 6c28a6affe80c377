"""权限与角色 — fine-grained permissions and the built-in roles made of them.

Guarantees:
- A role is a set of permission codes; `*` means every permission (the owner).
- Document permissions are per kind: `document.create.<kind>`,
  `document.post.<kind>`, `document.approve.<kind>`, `document.reverse.<kind>`;
  a holder of the kind-less code (e.g. `document.post`) holds it for every kind.
"""

from __future__ import annotations

from collections.abc import Mapping

from jxc.domain.documents import DocumentKind

K = DocumentKind

# code -> (zh, en)
PERMISSIONS: Mapping[str, tuple[str, str]] = {
    "document.create": ("新建/修改单据", "create and edit documents"),
    "document.post": ("提交/过账单据", "submit and post documents"),
    "document.approve": ("审批单据", "approve documents"),
    "document.reverse": ("红冲单据", "reverse posted documents"),
    "document.cancel": ("作废草稿", "cancel drafts"),
    "document.backdate": ("补录历史日期单据", "post documents dated in the past"),
    "document.view_all": ("查看他人单据", "see other people's documents"),
    "stock.allow_negative": ("允许负库存", "allow negative stock"),
    "sales.negative_qty": ("负数销售行", "enter negative sales lines"),
    "price.edit": ("修改价格", "change prices"),
    "price.view_cost": ("查看成本", "see costs"),
    "masterdata.edit": ("维护商品/往来单位/仓库", "edit products, partners, warehouses"),
    "settings.edit": ("修改系统设置与审批规则", "change settings and approval rules"),
    "user.manage": ("管理用户与角色", "manage users and roles"),
    "audit.view": ("查看操作日志", "view the audit log"),
    "period.close": ("月结", "close periods"),
    "report.view": ("查看报表", "view reports"),
    "money.receive": ("收款", "record receipts from customers"),
    "money.pay": ("付款", "record payments to suppliers"),
    "money.view": ("查看应收应付", "see receivables, payables, statements and ageing"),
    "sales.credit_override": ("信用超额审批", "approve a sales order over the customer's credit limit"),
}

DOC_ACTIONS = ("create", "post", "approve", "reverse")

_ALL_DOCS = frozenset({"document.create", "document.post", "document.cancel"})
_STOCK_KINDS = (K.TRANSFER, K.TRANSFER_RECEIPT, K.STATUS_CHANGE, K.PURCHASE_RECEIPT,
                K.SALES_DELIVERY, K.PRODUCTION_ISSUE, K.PRODUCTION_RECEIPT, K.ASSEMBLY, K.DISASSEMBLY)


def _docs(action: str, *kinds: DocumentKind) -> frozenset[str]:
    return frozenset(f"document.{action}.{k.value}" for k in kinds)


# role -> (zh, en, permissions)
BUILTIN_ROLES: Mapping[str, tuple[str, str, frozenset[str]]] = {
    "owner": ("老板", "owner", frozenset({"*"})),
    "manager": ("主管", "manager", _ALL_DOCS | frozenset({
        "document.approve", "document.reverse", "document.backdate", "document.view_all",
        "price.edit", "price.view_cost", "masterdata.edit", "audit.view", "report.view"})),
    "purchaser": ("采购", "purchaser", _docs("create", K.PURCHASE_RECEIPT, K.PURCHASE_RETURN)
                  | _docs("post", K.PURCHASE_RECEIPT, K.PURCHASE_RETURN)
                  | frozenset({"document.cancel", "price.view_cost", "report.view"})),
    "keeper": ("仓管", "warehouse keeper", _docs("create", *_STOCK_KINDS, K.SCRAP, K.COUNT_ADJUSTMENT)
               | _docs("post", *_STOCK_KINDS, K.SCRAP, K.COUNT_ADJUSTMENT)
               | frozenset({"document.cancel"})),
    "sales": ("销售/收银", "sales / cashier", _docs("create", K.SALES_DELIVERY, K.SALES_RETURN)
              | _docs("post", K.SALES_DELIVERY, K.SALES_RETURN) | frozenset({"document.cancel"})),
    "finance": ("财务", "finance", frozenset({"document.view_all", "price.view_cost", "report.view",
                                              "period.close", "audit.view", "money.receive", "money.pay",
                                              "money.view", "sales.credit_override"})),
    "auditor": ("审计", "auditor", frozenset({"document.view_all", "price.view_cost", "report.view",
                                              "audit.view"})),
}


def holds(permissions: frozenset[str], code: str) -> bool:
    """Does a permission set grant ``code``? (`*`, or the kind-less parent of a document code)."""
    if "*" in permissions or code in permissions:
        return True
    parts = code.split(".")
    return len(parts) == 3 and parts[0] == "document" and f"{parts[0]}.{parts[1]}" in permissions


def doc_permission(action: str, kind: DocumentKind) -> str:
    return f"document.{action}.{kind.value}"


def known(code: str) -> bool:
    if code == "*" or code in PERMISSIONS:
        return True
    parts = code.split(".")
    return (len(parts) == 3 and parts[0] == "document" and parts[1] in DOC_ACTIONS
            and parts[2] in DocumentKind._value2member_map_)
