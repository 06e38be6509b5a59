"""Fxiaoke's JSON envelope: every answer is HTTP 200 with `errorCode` in a JSON object, so
anything else (another status, no JSON) is a proxy or an outage in front of it."""

from __future__ import annotations

from typing import Any

from resolvers.errors import BackendUnavailable
from resolvers.transport import Reply


def envelope(response: Reply, path: str) -> dict[str, Any]:
    """The answer's JSON object; BackendUnavailable when there is none or the status is not 200."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        raise BackendUnavailable(
            f"Fxiaoke answered HTTP {response.status_code} without its JSON envelope for "
            f"POST {path} (its API answers 200; a proxy in front of it failed?)",
            system="crm",
            status=response.status_code,
        )
    return body
