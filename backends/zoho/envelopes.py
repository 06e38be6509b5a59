"""Zoho's error envelopes: `{"code","message","status":"error","details"}` (dialects.md §A.7)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response


class ZohoError(Exception):
    """A request-level error, answered with Zoho's top-level envelope and HTTP status."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.details)


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    body = {"code": code, "message": message, "status": "error", "details": details or {}}
    return JSONResponse(body, status_code=status)


def fault_response(status: int) -> Response:
    """The body ControlMiddleware sends for injected 429s and 5xx."""
    if status == 429:
        return error_response(429, "TOO_MANY_REQUESTS", "too many requests, retry later")
    return error_response(status, "INTERNAL_ERROR", "Internal Server Error")


def invalid_data(message: str, **details: Any) -> ZohoError:
    return ZohoError(400, "INVALID_DATA", message, details)


def required_param(name: str) -> ZohoError:
    return ZohoError(400, "REQUIRED_PARAM_MISSING", f"{name} is required", {"param_name": name})


def limit_exceeded(name: str, limit: int) -> ZohoError:
    message = f"the number of {name} exceeds the limit of {limit}"
    return ZohoError(400, "LIMIT_EXCEEDED", message, {"param_name": name, "limit": limit})


def invalid_url() -> ZohoError:
    message = "Please check if the URL trying to access is a correct one"
    return ZohoError(404, "INVALID_URL_PATTERN", message)


def invalid_method() -> ZohoError:
    message = "The http request method type is not a valid one"
    return ZohoError(405, "INVALID_REQUEST_METHOD", message)
