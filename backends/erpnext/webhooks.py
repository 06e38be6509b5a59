"""Frappe's Webhook DocType at work: document events POSTed to a URL (dialects.md §B.7,
integration-notes §2.2).

A request's document events (`Context.events`: after_insert, on_update, on_submit,
on_cancel, on_trash, on_update_after_submit, on_change; `db_set` fires on_change, and a
Bin whose quantities moved fires on_change) are matched against the enabled Webhooks after
the transaction committed, de-duplicated on (webhook, document) with the document's last
version winning, and queued on the emulation's `Outbox` (one background worker):

    body      JSON text of `webhook_json` rendered by Jinja with `doc` (request_structure
              "JSON"), else {key: doc[fieldname]} of the `webhook_data` rows;
              sent as json.dumps(data, default=str), like Frappe
    headers   only the `webhook_headers` rows, plus, with enable_security,
              X-Frappe-Webhook-Signature = base64(HMAC-SHA256(webhook_secret, body))
    delivery  up to 3 tries; after a non-2xx or a connection error it waits 3*i+1 s
              (1 s, 4 s; `backoff_scale` shortens it in tests), after a read timeout it
              retries at once; every attempt is a `Webhook Request Log` row

Differences from Frappe: `condition` is refused (no Python evaluation), and
`webhook_secret` is returned in clear by GET (Frappe masks Password fields).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jinja2
from jinja2.sandbox import SandboxedEnvironment

from backends.notify import Outbox

from .controllers import Event
from .store import ErpStore, Row

logger = logging.getLogger("crossdock.emulation.erpnext")

SIGNATURE_HEADER = "X-Frappe-Webhook-Signature"
ATTEMPTS = 3
Sleep = Callable[[float], Awaitable[None]]
_JINJA = SandboxedEnvironment(autoescape=False, undefined=jinja2.StrictUndefined)


def signature(secret: str, body: bytes) -> str:
    """Frappe's webhook signature: base64 of HMAC-SHA256(secret, body)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class WebhookCall:
    """One rendered webhook call."""

    webhook: str
    doctype: str
    docname: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeout: float


class Webhooks:
    """Renders and sends the webhooks of one emulated site."""

    def __init__(
        self,
        store: ErpStore,
        outbox: Outbox,
        *,
        client: httpx.AsyncClient | None = None,
        backoff_scale: float = 1.0,
        sleep: Sleep | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.client = client
        self.backoff_scale = backoff_scale
        self._owns_client = client is None
        self._sleep = sleep or asyncio.sleep

    def publish(
        self, events: list[Event], trashed: dict[tuple[str, str], Row], *, since: str
    ) -> None:
        """Queue the webhooks a committed request's events match (no webhook: no work).
        `since` is the store's last stamp before the request: Bins written after it moved."""
        hooks = self._enabled()
        if not hooks:
            return
        events = [*events, *self._changed_bins(since)]
        due: dict[tuple[str, str], tuple[Row, str, str]] = {}
        for doctype, name, event in events:
            for hook in hooks:
                if hook["webhook_doctype"] == doctype and hook["webhook_docevent"] == event:
                    due.setdefault((hook["name"], name), (hook, doctype, name))
        for hook, doctype, name in due.values():
            doc = trashed.get((doctype, name)) or self.store.get(doctype, name)
            if doc is None:
                continue  # gone by the end of the request
            request = self._render(hook, doc)
            if request is not None:
                self.outbox.submit(self._sender(request))

    def _changed_bins(self, since: str) -> list[Event]:
        """on_change of every Bin written after `since` (quantities moved by stock effects)."""
        rows = self.store.query('SELECT name FROM "tabBin" WHERE modified > ?', (since,))
        return [("Bin", row["name"], "on_change") for row in rows]

    def _enabled(self) -> list[Row]:
        names = self.store.query('SELECT name FROM "tabWebhook" WHERE enabled = 1 ORDER BY name')
        hooks = [self.store.get("Webhook", row["name"]) for row in names]
        return [hook for hook in hooks if hook is not None]

    def _render(self, hook: Row, doc: Row) -> WebhookCall | None:
        try:
            data = _data(hook, doc)
            url = hook["request_url"]
            if hook.get("is_dynamic_url"):
                url = _JINJA.from_string(url).render(doc=doc)
        except (jinja2.TemplateError, ValueError, TypeError):
            # Frappe logs a template that fails (or renders bad JSON) and skips the call.
            self._log(hook, doc, url=str(hook.get("request_url")), error=traceback.format_exc())
            return None
        body = json.dumps(data, default=str).encode()
        headers = {row["key"]: row.get("value") or "" for row in hook.get("webhook_headers") or []}
        if hook.get("enable_security"):
            headers[SIGNATURE_HEADER] = signature(hook.get("webhook_secret") or "", body)
        method = hook.get("request_method") or "POST"
        timeout = float(hook.get("timeout") or 5)
        return WebhookCall(
            hook["name"], doc["doctype"], doc["name"], method, url, headers, body, timeout
        )

    def _sender(self, request: WebhookCall) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            await self.deliver(request)

        return send

    async def deliver(self, request: WebhookCall) -> bool:
        """Frappe's enqueued `webhook.enqueue_webhook`: up to 3 tries, each one logged."""
        client = self.client or self._default_client()
        for attempt in range(ATTEMPTS):
            response_text, error, wait = "", "", True
            try:
                response = await client.request(
                    request.method,
                    request.url,
                    content=request.body,
                    headers=request.headers,
                    timeout=request.timeout,
                )
                response_text = response.text
                response.raise_for_status()
            except httpx.ReadTimeout:
                error, wait = traceback.format_exc(), False  # Frappe retries a timeout at once
            except httpx.HTTPError:
                error = traceback.format_exc()
            self._log_request(request, response_text, error)
            if not error:
                return True
            if wait and attempt < ATTEMPTS - 1:
                await self._sleep((3 * attempt + 1) * self.backoff_scale)
        return False

    def _log_request(self, request: WebhookCall, response: str, error: str) -> None:
        self.store.insert(
            "Webhook Request Log",
            [
                {
                    "webhook": request.webhook,
                    "reference_doctype": request.doctype,
                    "reference_document": request.docname,
                    "headers": json.dumps(request.headers),
                    "data": request.body.decode(),
                    "user": "Administrator",
                    "url": request.url,
                    "response": response,
                    "error": error,
                }
            ],
        )

    def _log(self, hook: Row, doc: Row, *, url: str, error: str) -> None:
        self.store.insert(
            "Webhook Request Log",
            [
                {
                    "webhook": hook["name"],
                    "reference_doctype": doc.get("doctype"),
                    "reference_document": doc.get("name"),
                    "user": "Administrator",
                    "url": url,
                    "error": error,
                }
            ],
        )

    def _default_client(self) -> httpx.AsyncClient:
        self.client = httpx.AsyncClient()
        return self.client

    async def aclose(self) -> None:
        await self.outbox.aclose()
        if self.client is not None and self._owns_client:
            await self.client.aclose()
            self.client = None


def _data(hook: Row, doc: Row) -> Any:
    """The body's data: the rendered `webhook_json`, else the `webhook_data` rows."""
    if hook.get("request_structure") == "JSON" and (hook.get("webhook_json") or "").strip():
        return json.loads(_JINJA.from_string(hook["webhook_json"]).render(doc=doc))
    return {row["key"]: doc.get(row["fieldname"]) for row in hook.get("webhook_data") or []}
