"""错误 — domain errors: one shape, a stable code, the field, zh and en text.

Guarantees:
- Every error a person can cause carries a stable ``code`` (UPPER_SNAKE, never
  reused), the ``field`` it concerns (or ``None``), and a message in zh-CN and en
  that says what is wrong and how to fix it.
- Validation collects every problem first and raises once (`ValidationFailed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """问题 — one thing wrong with the input."""

    code: str
    field: str | None
    message_zh: str
    message_en: str
    details: tuple[tuple[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "field": self.field,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "details": dict(self.details),
        }


class DomainError(Exception):
    """业务错误 — a refused operation; ``status`` is the HTTP status interfaces use."""

    status = 400

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        *,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.field = field
        self.message_zh = message_zh
        self.message_en = message_en
        self.details = dict(details or {})

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "field": self.field,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "details": self.details,
        }


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class ValidationFailed(DomainError):
    """校验失败 — one or more problems with the input, all reported together."""

    status = 422

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(
            first.code,
            "；".join(p.message_zh for p in self.problems),
            "; ".join(p.message_en for p in self.problems),
            field=first.field,
            details={"problems": [p.as_dict() for p in self.problems]},
        )


@dataclass
class Problems:
    """问题清单 — collect problems, then raise once."""

    items: list[Problem] = field(default_factory=list)

    def add(self, code: str, field_: str | None, zh: str, en: str, **details: Any) -> None:
        self.items.append(Problem(code, field_, zh, en, tuple(details.items())))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)


# Every error code the system raises, with its meaning; a test keeps this list
# and the docs true (docs/errors.md).
ERROR_CODES: dict[str, str] = {
    "VALUE_REQUIRED": "a required field is empty",
    "VALUE_INVALID": "a field has a value of the wrong form",
    "QTY_NOT_POSITIVE": "a quantity must be greater than zero",
    "QTY_TOO_PRECISE": "a quantity has more decimal places than the unit allows",
    "CODE_TAKEN": "a code (product, warehouse, partner, location, lot) is already used",
    "NOT_FOUND": "the referenced record does not exist",
    "INACTIVE": "the referenced record is deactivated",
    "UNIT_UNKNOWN": "the unit has no conversion to the product's base unit",
    "LOT_REQUIRED": "a lot-tracked product was moved without a lot",
    "LOT_NOT_ALLOWED": "a lot was given for a product that is not lot-tracked",
    "LOT_PRODUCT_MISMATCH": "the lot belongs to another product",
    "SAME_BUCKET": "a movement's source and destination are the same bucket",
    "POSTING_EMPTY": "a posting has no movements",
    "STOCK_INSUFFICIENT": "the posting would make physical stock negative",
    "NEGATIVE_NOT_PERMITTED": "negative stock was asked for by a user without the permission",
    "PERIOD_CLOSED": "the business date falls in a closed period",
    "PERIOD_NOT_ADVANCING": "a period close must be later than the last one",
    "ALREADY_REVERSED": "the posting has been reversed already",
    "REVERSAL_OF_REVERSAL": "a reversal cannot itself be reversed",
    "IDEMPOTENCY_MISMATCH": "an idempotency key was reused for a different request",
    "VERSION_CONFLICT": "the record was changed by someone else since it was read",
    "AUTH_FAILED": "wrong user name or password",
    "INVALID_TRANSITION": "the document's state does not allow this action",
    "REASON_REQUIRED": "returns, scrap, count adjustments and reversals need a reason",
    "NEGATIVE_LINE_NOT_PERMITTED": "a negative sales line was entered without the permission",
    "PERMISSION_DENIED": "the user lacks the permission for this action",
    "WAREHOUSE_NOT_PERMITTED": "the user may not work in this warehouse or store",
    "SELF_APPROVAL": "a document cannot be approved by the person who submitted it",
    "APPROVER_ROLE_REQUIRED": "this approval level needs another role",
    "QTY_EXCEEDS_OUTSTANDING": "a receipt is larger than what is still in transit",
    "ALREADY_RECEIVED": "the transfer has been fully received",
    "REAUTH_REQUIRED": "a sensitive action needs the password entered again",
    "TRANSFER_RECEIVED": "a transfer with receipts cannot be reversed before its receipts",
    "COUNT_TASK_STATE": "the count task's state does not allow this (entries only while open, recount only before posting)",
    "COUNT_NOT_ASSIGNED": "the user is not assigned to this count task",
    "COUNT_CONFLICT": "counters disagree on a bucket; recount it before closing the task",
    "RESERVATION_NOT_OPEN": "the reservation is no longer pending, or has less left than asked",
    "STOCK_RESERVED": "the posting would take stock that is reserved for other orders (I4)",
    "OVER_RECEIPT": "a receipt exceeds the ordered quantity by more than the tolerance",
    "RETURN_EXCEEDS_MOVED": "a return exceeds what its receipt / delivery moved less earlier returns",
    "FREIGHT_BASIS_EMPTY": "a receipt's freight cannot be split: every line's basis (amount or quantity) is 0",
    "FREIGHT_NOT_ALLOWED": "freight (运费) was entered on a document that is not a purchase receipt",
    "AUTH_REQUIRED": "the request has no valid session or API token (401)",
    "TOKEN_INVALID": "the API token is unknown, revoked, or its user is deactivated (401)",
    "LOGIN_LOCKED": "too many failed logins: the user name or address is locked out for a while (429)",
    "CSRF_FAILED": "a cookie-session request without the session's CSRF token (403)",
    "IDEMPOTENCY_IN_PROGRESS": "a request with the same Idempotency-Key is still being processed (409)",
    "METHOD_NOT_ALLOWED": "the address does not allow this HTTP method (405)",
    "INTERNAL_ERROR": "an unexpected server error; it was logged (500)",
    "WEBHOOK_URL_INVALID": "a webhook endpoint must be an https:// URL (http only for loopback)",
    "DELIVERY_NOT_RETRYABLE": "the webhook delivery is in a state that cannot be retried or discarded",
    "CHAT_CUSTOMER_UNKNOWN": "a chat order's customer cannot be told from the message; choose one (422)",
    "OVER_ALLOCATION": "an allocation (核销) exceeds what the payment or the open item still has open (409)",
    "ALLOCATION_TARGET_INVALID": "an allocation names an item that is not an open debit of this partner and side",
    "CREDIT_LIMIT_EXCEEDED": "a sales order would take the customer over the credit limit; collect or get an override (409)",
    "SETUP_DONE": "the first-run wizard is refused: the book already has a user (409)",
    "OPENING_EXISTS": "the partner already has a posted opening balance (期初) with this reference and other figures",
    "REFUND_EXCEEDS_CREDIT": "a refund (退款) is larger than the partner's available credit (409)",
}
