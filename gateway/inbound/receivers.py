"""The endpoints the backends call: `POST /hooks/zoho` and `POST /hooks/erpnext`.

Each checks that the call comes from the backend before anything else is done with it,
turns it into `Change`s (gateway.inbound.mapping) and puts them into the sink (the durable
inbox), answering as soon as they are stored: processing happens elsewhere, later.

    /hooks/zoho      the body's `channel_id` and `token` must equal the configured ones
                     (constant-time); no token: 401, a wrong one or another channel: 403
    /hooks/erpnext   X-Frappe-Webhook-Signature must be base64(HMAC-SHA256(secret, raw
                     body)), checked over the raw bytes before parsing; none: 401, wrong: 403

A body that is not JSON or not such a notification: 400; over 1 MiB: 413. A refused call
puts nothing. When the sink fails the answer is 503, so a backend that retries (Frappe
does) delivers again; the catch-up poll covers one that does not (Zoho).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.inbound.mapping import BadPayload, erpnext_change, zoho_changes
from gateway.protection.http_guard import RequestRefused, refusal_response
from gateway.settings.inbound import InboundSettings
from resolvers.sync.change import Change, ChangeSink

logger = logging.getLogger("crossdock.inbound")

MAX_BODY = 1 << 20
SIGNATURE_HEADER = "x-frappe-webhook-signature"
Clock = Callable[[], datetime]


class Refused(Exception):
    """The call is answered with this status and code, and nothing is put."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.refusal = RequestRefused(status, code, message)


class Receivers:
    """The two hook endpoints over one sink: `Route`s from `routes()`."""

    def __init__(
        self,
        settings: InboundSettings,
        sink: ChangeSink,
        *,
        site_tz: ZoneInfo,
        clock: Clock = lambda: datetime.now(UTC),
        crm_hooks: bool = True,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.site_tz = site_tz
        self.clock = clock
        self.crm_hooks = crm_hooks  # False for a CRM without notifications (Fxiaoke)

    def routes(self) -> list[Route]:
        erpnext = Route("/hooks/erpnext", self._guarded(self.erpnext), methods=["POST"])
        if not self.crm_hooks:
            return [erpnext]
        return [Route("/hooks/zoho", self._guarded(self.zoho), methods=["POST"]), erpnext]

    async def zoho(self, request: Request) -> Sequence[Change]:
        body = _json(await _raw(request))
        token = body.get("token") if isinstance(body, dict) else None
        channel = body.get("channel_id") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise Refused(401, "UNAUTHENTICATED", "the callback carries no token")
        expected_channel = self.settings.zoho_channel_id.encode()
        same_channel = hmac.compare_digest(str(channel).encode(), expected_channel)
        same_token = hmac.compare_digest(token.encode(), self.settings.zoho_token.encode())
        if not (same_channel and same_token):
            raise Refused(403, "FORBIDDEN", "the callback's channel_id or token is not ours")
        return zoho_changes(body, self.clock())

    async def erpnext(self, request: Request) -> Sequence[Change]:
        raw = await _raw(request)
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            raise Refused(401, "UNAUTHENTICATED", "the webhook carries no signature")
        if not hmac.compare_digest(given.encode(), _signature(self.settings.erpnext_secret, raw)):
            raise Refused(403, "FORBIDDEN", "the webhook signature does not match the body")
        change = erpnext_change(_json(raw), self.clock(), self.site_tz)
        return [] if change is None else [change]

    def _guarded(self, receive: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                changes = await receive(request)
            except Refused as refused:
                logger.warning("%s refused: %s", request.url.path, refused.refusal.message)
                return refusal_response(refused.refusal)
            except BadPayload as exc:
                message = f"{request.url.path}: {exc}"
                return refusal_response(RequestRefused(400, "BAD_NOTIFICATION", message))
            return await self._put(request.url.path, changes)

        return endpoint

    async def _put(self, path: str, changes: Sequence[Change]) -> Response:
        try:
            for change in changes:
                await self.sink.put(change)
        except Exception:  # the inbox is down: the backend should deliver again later
            logger.exception("%s: the change inbox failed; answered 503", path)
            message = "the change inbox is unavailable; deliver again later"
            return refusal_response(RequestRefused(503, "INBOX_UNAVAILABLE", message))
        return JSONResponse({"accepted": len(changes)})


def _signature(secret: str, raw: bytes) -> bytes:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest())


async def _raw(request: Request) -> bytes:
    """The body, refusing more than MAX_BODY bytes without reading them all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise Refused(413, "PAYLOAD_TOO_LARGE", f"the body exceeds {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise Refused(413, "PAYLOAD_TOO_LARGE", f"the body exceeds {MAX_BODY} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Refused(400, "BAD_NOTIFICATION", "the client went away mid-body") from None
    return b"".join(chunks)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
        raise BadPayload("the body is not valid JSON") from None
