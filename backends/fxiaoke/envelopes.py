"""Fxiaoke's envelope: HTTP 200 always, `errorCode` 0 or not (integration-notes §1.2).

    {"errorCode": 0, "errorMessage": "OK", "errorDescription": "success",
     "traceId": "E-O.…", "data": {…}}

The codes marked ◐ are from the vendor's code table as transcribed; ❓ ones are this
emulation's own choice where no source names a code (docs/fxiaoke.md lists them).
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import JSONResponse, Response

SYSTEM_BUSY = -1  # ◐
MISSING_TOKEN = 10013  # ◐ "missing corpAccessToken"; also "offset out of range 10000"
OFFSET_OUT_OF_RANGE = 10013  # ◐ [X-SK] deep-paging FAQ
UNKNOWN_PATH = 10006  # ◐ documented as "missing scope", seen for unknown paths, bad appSecret
BAD_PARAM = 10002  # ❓ a malformed body or an unknown object or field
INTERFACE_LIMIT = 14001  # ◐ 100 calls / 20 s per interface
PER_SECOND_LIMIT = 30004  # ◐
DAILY_QUOTA = 30002  # ◐ resets at 00:00
TOKEN_EXPIRED = 20016  # ◐ corpAccessToken missing or expired
ACCESS_TOKEN_EXPIRED = 20005  # ◐ the new-style accessToken
CORP_NOT_FOUND = 20017  # ◐
USER_NOT_FOUND = 20012  # ◐ openUserId not found
SERVICE_ERROR = 50009  # ◐ service exception (e.g. a timeout)
NOT_FOUND = 40004  # ❓ no record with that id
VALIDATION = 40001  # ❓ a write refused: required, type, option value, lookup target
DUPLICATE = 40012  # ❓ a unique field already holds the value


class FxError(Exception):
    """A business error: answered as HTTP 200 with `errorCode` and `errorMessage`."""

    def __init__(self, code: int, message: str, description: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.description = description or message

    def response(self) -> Response:
        return error_response(self.code, self.message, self.description)


def trace_id() -> str:
    return f"E-O.crossdock.{uuid.uuid4().hex[:16]}"


def ok(**payload: Any) -> Response:
    body = {"errorCode": 0, "errorMessage": "OK", "errorDescription": "success"}
    return JSONResponse({"traceId": trace_id(), **body, **payload})


def error_response(code: int, message: str, description: str | None = None) -> Response:
    body = {
        "traceId": trace_id(),
        "errorCode": code,
        "errorMessage": message,
        "errorDescription": description or message,
    }
    return JSONResponse(body)


def fault_response(status: int) -> Response:
    """What ControlMiddleware sends for an injected fault: still HTTP 200, as Fxiaoke does."""
    if status == 429:
        return error_response(INTERFACE_LIMIT, "接口调用次数超限 interface call limit exceeded")
    return error_response(SERVICE_ERROR, "服务异常 service exception")


def bad_param(message: str) -> FxError:
    return FxError(BAD_PARAM, f"参数错误 {message}")
