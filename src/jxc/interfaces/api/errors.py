"""错误信封 — one error shape everywhere: RFC 9457 problem details plus our code, field, zh and en.

Domain refusals, request validation, unknown routes, wrong methods and
unexpected failures all render the same JSON (`application/problem+json`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from jxc.domain.errors import DomainError, Problem, ValidationFailed

PROBLEM = "application/problem+json"
log = logging.getLogger("jxc.api")

# A few domain codes mean "who are you?" rather than "bad request".
_STATUS = {"AUTH_FAILED": 401}
# Plain DomainErrors (no status family) whose code alone says the HTTP status; a subclass
# (e.g. ValidationFailed, 422, whose first problem may be NOT_FOUND) keeps its own.
_PLAIN_STATUS = {"NOT_FOUND": 404, "IDEMPOTENCY_MISMATCH": 422}
_HTTP = {
    401: ("AUTH_REQUIRED", "请先登录", "log in first"),
    403: ("PERMISSION_DENIED", "没有权限", "permission denied"),
    404: ("NOT_FOUND", "地址不存在", "no such address"),
    405: ("METHOD_NOT_ALLOWED", "该地址不支持此请求方法", "this address does not allow this method"),
}


def problem_body(exc: DomainError, instance: str, status: int | None = None) -> dict[str, Any]:
    plain = _PLAIN_STATUS.get(exc.code) if type(exc) is DomainError else None
    status = status or _STATUS.get(exc.code) or plain or exc.status
    return {
        "type": f"https://jxc.dev/errors/{exc.code.lower().replace('_', '-')}",
        "title": exc.message_en,
        "status": status,
        "detail": exc.message_zh,
        "instance": instance,
        **exc.as_dict(),
    }


def problem(exc: DomainError, instance: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """RFC 9457 problem details plus our code, field and zh/en messages."""
    body = problem_body(exc, instance)
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM, headers=headers)


def _field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


def _validation(exc: RequestValidationError) -> ValidationFailed:
    problems = []
    for err in exc.errors():
        field = _field(tuple(err.get("loc", ())))
        missing = err.get("type") == "missing"
        code = "VALUE_REQUIRED" if missing else "VALUE_INVALID"
        zh = f"{field or '请求'}不能为空" if missing else f"{field or '请求'}的值无效：{err.get('msg', '')}"
        problems.append(Problem(code, field, zh, f"{field or 'request'}: {err.get('msg', 'invalid')}"))
    if not problems:
        problems.append(Problem("VALUE_INVALID", None, "请求格式无效", "the request is malformed"))
    return ValidationFailed(problems)


def install(api: FastAPI) -> None:
    @api.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = None
        if exc.code == "LOGIN_LOCKED":
            headers = {"Retry-After": str(exc.details.get("retry_after_s", 60))}
        return problem(exc, request.url.path, headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(_validation(exc), request.url.path)

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, zh, en = _HTTP.get(exc.status_code, ("VALUE_INVALID", "请求无效", "bad request"))
        err = DomainError(code, zh, en)
        body = problem_body(err, request.url.path, status=exc.status_code)
        return JSONResponse(body, status_code=exc.status_code, media_type=PROBLEM,
                            headers=getattr(exc, "headers", None))

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        err = DomainError("INTERNAL_ERROR", "服务器内部错误，已记录，请稍后重试或联系管理员",
                          "internal server error; it was logged — retry later or contact the administrator")
        return JSONResponse(problem_body(err, request.url.path, status=500), status_code=500,
                            media_type=PROBLEM)
