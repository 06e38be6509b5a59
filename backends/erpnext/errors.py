"""Frappe's exceptions, as the emulated ERPNext raises and renders them.

Every error is one `FrappeError` carrying Frappe's exception class name (`exc_type`) and the
HTTP status that class maps to (frappe/exceptions.py `http_status_code`):

    401 AuthenticationError        403 PermissionError          404 DoesNotExistError
    409 DuplicateEntryError        417 ValidationError and its kin (MandatoryError,
    429 TooManyRequestsError           LinkValidationError, DataError, LinkExistsError, ...)
    500 anything unexpected

The body is Frappe v1's: `{"exc_type", "exception", "_server_messages"}` where
`_server_messages` is a JSON string holding a list of JSON strings `{"message": ...}`.
Under `/api/` the reply is JSON unless `Accept` starts with `text`; then it is an HTML page.
"""

from __future__ import annotations

import html
import json
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response

_STATUS = {
    "AuthenticationError": 401,
    "PermissionError": 403,
    "DoesNotExistError": 404,
    "DuplicateEntryError": 409,
    "TooManyRequestsError": 429,
    "Exception": 500,
}


class FrappeError(Exception):
    """One Frappe exception: `FrappeError("MandatoryError", "Error: Value missing ...")`."""

    def __init__(self, exc_type: str, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.exc_type = exc_type
        self.message = message
        self.detail = detail or message
        self.status = _STATUS.get(exc_type, 417)


def not_found(doctype: str, name: str) -> FrappeError:
    return FrappeError("DoesNotExistError", f"{doctype} {name} not found")


def server_messages(messages: list[str]) -> str:
    """Frappe's doubly encoded `_server_messages`: a JSON list of JSON-encoded objects."""
    return json.dumps([json.dumps({"message": m}) for m in messages])


def error_body(error: FrappeError) -> dict[str, Any]:
    return {
        "exc_type": error.exc_type,
        "exception": f"frappe.exceptions.{error.exc_type}: {error.detail}",
        "_server_messages": server_messages([error.message]),
    }


def wants_html(path: str, accept: str) -> bool:
    """Frappe answers JSON for `application/json`, or under /api/ unless Accept starts with text."""
    if "application/json" in accept:
        return False
    return not path.startswith("/api/") or accept.startswith("text")


def error_response(error: FrappeError, *, path: str = "/api/", accept: str = "") -> Response:
    if wants_html(path, accept):
        page = (
            f"<!DOCTYPE html><html><head><title>{error.exc_type}</title></head><body>"
            f"<h1>{error.exc_type}</h1><p>{html.escape(error.message)}</p></body></html>"
        )
        return HTMLResponse(page, status_code=error.status)
    return JSONResponse(error_body(error), status_code=error.status)


def status_error(status: int) -> Response:
    """The body the fault knobs answer with (429 throttling, 500 injected failures)."""
    if status == 429:
        error = FrappeError("TooManyRequestsError", "Too Many Requests. Please try again later.")
    else:
        error = FrappeError("Exception", "Internal Server Error")
        error.status = status
    return error_response(error)
