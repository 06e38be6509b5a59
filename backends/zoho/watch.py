"""Watch channels of the Notification API: `/crm/v8/actions/watch` (dialects.md §A.9).

    POST   {"watch": [{"channel_id", "events": ["Accounts.all", ...], "notify_url",
                       "token", "channel_expiry", "return_affected_field_values"}]}   201
    PUT    the same: replaces existing channels                                      200
    PATCH  changes given keys of existing channels; `"_delete_events": true` removes
           the listed events instead of replacing them                               200
    GET    the live channels                                                   200 / 204
    DELETE ?channel_ids=1,2                                                          200

Every item gets its own result, in order (207 when mixed, 400 when all failed), as record
writes do. `channel_expiry` may be at most a week ahead; when it is omitted or further,
the channel lives one hour (Zoho's rule). Channels are rows of the store's SQLite file.
Undocumented by Zoho, so chosen here: POST of a channel id that exists is DUPLICATE_DATA,
PUT/PATCH/DELETE of an unknown one INVALID_DATA.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from dataclasses import asdict, dataclass, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backends.zoho.clock import TenantClock
from backends.zoho.envelopes import invalid_data, limit_exceeded, required_param
from backends.zoho.fields import MODULES
from backends.zoho.validation import RecordError, invalid, missing

MAX_WATCH = 50
MAX_TOKEN = 50
MAX_URL = 255
WEEK_MS = 7 * 24 * 3600 * 1000
DEFAULT_MS = 3600 * 1000
VERBS = ("create", "edit", "delete", "all")
# callback `operation` -> the subscription verb that asks for it
OPERATION_VERB = {"insert": "create", "update": "edit", "delete": "delete"}
_SUBSCRIBED = "Successfully subscribed for actions-watch of the given module"
_UPDATED = "Successfully updated the subscribe details"
_SCHEMA = "CREATE TABLE IF NOT EXISTS watch_channels (channel_id TEXT PRIMARY KEY, doc TEXT)"


@dataclass(frozen=True)
class Channel:
    channel_id: str
    events: tuple[str, ...]
    notify_url: str
    expiry_ms: int
    token: str | None = None
    return_affected_field_values: bool = False
    notify_on_related_action: bool = True

    def wants(self, module: str, operation: str) -> bool:
        verb = OPERATION_VERB[operation]
        return f"{module}.{verb}" in self.events or f"{module}.all" in self.events

    def modules(self) -> list[str]:
        return list(dict.fromkeys(e.split(".")[0] for e in self.events))


class Channels:
    """The channels table in the emulation's SQLite file."""

    def __init__(self, db: sqlite3.Connection, clock: TenantClock) -> None:
        self.db = db
        self.clock = clock
        db.execute(_SCHEMA)
        db.commit()

    def get(self, channel_id: str) -> Channel | None:
        row = self.db.execute(
            "SELECT doc FROM watch_channels WHERE channel_id = ?", (channel_id,)
        ).fetchone()
        if row is None:
            return None
        doc = json.loads(row[0])
        return Channel(**{**doc, "events": tuple(doc["events"])})

    def live(self) -> list[Channel]:
        """Channels not yet expired, oldest first."""
        rows = self.db.execute("SELECT channel_id FROM watch_channels ORDER BY rowid").fetchall()
        now = self.clock.now_ms()
        found = [self.get(row[0]) for row in rows]
        return [c for c in found if c is not None and c.expiry_ms > now]

    def save(self, channel: Channel) -> None:
        doc = json.dumps({**asdict(channel), "events": list(channel.events)})
        self.db.execute(
            "INSERT INTO watch_channels (channel_id, doc) VALUES (?, ?) "
            "ON CONFLICT(channel_id) DO UPDATE SET doc = excluded.doc",
            (channel.channel_id, doc),
        )
        self.db.commit()

    def delete(self, channel_id: str) -> None:
        self.db.execute("DELETE FROM watch_channels WHERE channel_id = ?", (channel_id,))
        self.db.commit()


class WatchApi:
    """The `/actions/watch` endpoint over one `Channels` table."""

    def __init__(
        self, channels: Channels, *, resource_base: str = "https://www.zohoapis.com"
    ) -> None:
        self.channels = channels
        self.resource_base = resource_base

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            return self._list()
        if request.method == "DELETE":
            return self._delete(request.query_params.get("channel_ids", ""))
        items = await _watch_items(request)
        write = {"POST": self._create, "PUT": self._replace, "PATCH": self._patch}[request.method]
        results = []
        for index, item in enumerate(items):
            try:
                results.append(write(item, f"$.watch[{index}]"))
            except RecordError as error:
                results.append(error.result())
        return _respond(results, created=request.method == "POST")

    def _create(self, item: Any, path: str) -> dict[str, Any]:
        channel = self._parse(item, path)
        if self.channels.get(channel.channel_id) is not None:
            raise RecordError(
                "DUPLICATE_DATA",
                "the channel_id is already subscribed; use PUT or PATCH to change it",
                api_name="channel_id",
                json_path=f"{path}.channel_id",
            )
        self.channels.save(channel)
        return self._success(channel, _SUBSCRIBED)

    def _replace(self, item: Any, path: str) -> dict[str, Any]:
        channel = self._parse(item, path)
        self._existing(channel.channel_id, path)
        self.channels.save(channel)
        return self._success(channel, _UPDATED)

    def _patch(self, item: Any, path: str) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise invalid("watch", path)
        old = self._existing(_channel_id(item, path), path)
        changes: dict[str, Any] = {}
        if "events" in item:
            events = _events(item["events"], f"{path}.events")
            if item.get("_delete_events") is True:
                events = tuple(e for e in old.events if e not in events)
                if not events:
                    raise invalid("events", f"{path}.events")  # a channel needs an event
            changes["events"] = events
        if "notify_url" in item:
            changes["notify_url"] = _notify_url(item["notify_url"], f"{path}.notify_url")
        if "token" in item:
            changes["token"] = _token(item["token"], f"{path}.token")
        if "channel_expiry" in item:
            changes["expiry_ms"] = self._expiry(item["channel_expiry"], f"{path}.channel_expiry")
        if "return_affected_field_values" in item:
            changes["return_affected_field_values"] = _flag(
                item, "return_affected_field_values", path
            )
        channel = replace(old, **changes)
        self.channels.save(channel)
        return self._success(channel, _UPDATED)

    def _existing(self, channel_id: str, path: str) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise RecordError(
                "INVALID_DATA",
                "no channel with this channel_id; subscribe it with POST first",
                api_name="channel_id",
                json_path=f"{path}.channel_id",
            )
        return channel

    def _parse(self, item: Any, path: str) -> Channel:
        if not isinstance(item, dict):
            raise invalid("watch", path)
        for key in ("channel_id", "events", "notify_url"):
            if item.get(key) in (None, "", []):
                raise missing(key, f"{path}.{key}")
        return Channel(
            channel_id=_channel_id(item, path),
            events=_events(item["events"], f"{path}.events"),
            notify_url=_notify_url(item["notify_url"], f"{path}.notify_url"),
            expiry_ms=self._expiry(item.get("channel_expiry"), f"{path}.channel_expiry"),
            token=_token(item.get("token"), f"{path}.token"),
            return_affected_field_values=_flag(item, "return_affected_field_values", path),
            notify_on_related_action=_flag(item, "notify_on_related_action", path, True),
        )

    def _expiry(self, value: Any, path: str) -> int:
        now = self._now()
        if value in (None, ""):
            return now + DEFAULT_MS
        if not isinstance(value, str):
            raise invalid("channel_expiry", path, "datetime")
        try:
            expiry = self.channels.clock.parse_ms(value)
        except ValueError:
            raise invalid("channel_expiry", path, "datetime") from None
        if expiry <= now:
            raise RecordError(
                "INVALID_DATA",
                "channel_expiry must be in the future",
                api_name="channel_expiry",
                json_path=path,
            )
        return expiry if expiry - now <= WEEK_MS else now + DEFAULT_MS  # Zoho: beyond a week → 1 h

    def _now(self) -> int:
        return self.channels.clock.now_ms()

    def _success(self, channel: Channel, message: str) -> dict[str, Any]:
        events = [self._resource(channel, module) for module in channel.modules()]
        return {
            "code": "SUCCESS",
            "status": "success",
            "message": message,
            "details": {"events": events},
        }

    def _resource(self, channel: Channel, module: str) -> dict[str, Any]:
        return {
            "channel_expiry": self.channels.clock.format(channel.expiry_ms),
            "resource_uri": f"{self.resource_base}/crm/v2/{module}",
            "resource_id": resource_id(module),
            "resource_name": module,
            "channel_id": channel.channel_id,
        }

    def _list(self) -> Response:
        live = self.channels.live()
        if not live:
            return Response(status_code=204)
        return JSONResponse({"watch": [self._describe(c) for c in live]})

    def _describe(self, channel: Channel) -> dict[str, Any]:
        described: dict[str, Any] = {
            "channel_id": channel.channel_id,
            "events": list(channel.events),
            "notify_url": channel.notify_url,
            "channel_expiry": self.channels.clock.format(channel.expiry_ms),
            "return_affected_field_values": channel.return_affected_field_values,
            "notify_on_related_action": channel.notify_on_related_action,
        }
        if channel.token is not None:
            described["token"] = channel.token
        return described

    def _delete(self, raw: str) -> Response:
        ids = [i.strip() for i in raw.split(",") if i.strip()]
        if not ids:
            raise required_param("channel_ids")
        results = []
        for channel_id in ids:
            if self.channels.get(channel_id) is None:
                error = RecordError(
                    "INVALID_DATA", "no channel with this channel_id", channel_id=channel_id
                )
                results.append(error.result())
                continue
            self.channels.delete(channel_id)
            results.append(
                {
                    "code": "SUCCESS",
                    "status": "success",
                    "message": "Successfully unsubscribed from actions-watch",
                    "details": {"channel_id": channel_id},
                }
            )
        return _respond(results, created=False)


def resource_id(module: str) -> str:
    """A stable module id, as Zoho sends in `resource_id`."""
    return str(5725767000000002000 + sorted(MODULES).index(module))


async def _watch_items(request: Request) -> list[Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise invalid_data("the request body is not valid JSON") from None
    if not isinstance(body, dict) or "watch" not in body:
        raise required_param("watch")
    items = body["watch"]
    if not isinstance(items, list) or not items:
        raise invalid_data("watch must be a non-empty array", api_name="watch")
    if len(items) > MAX_WATCH:
        raise limit_exceeded("watch", MAX_WATCH)
    return items


def _channel_id(item: dict[str, Any], path: str) -> str:
    value = item.get("channel_id")
    if value in (None, ""):
        raise missing("channel_id", f"{path}.channel_id")
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isdigit() or len(text) > 64:
        raise invalid("channel_id", f"{path}.channel_id", "long")
    return text


def _events(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > MAX_WATCH:
        raise invalid("events", path, "jsonarray")
    for event in value:
        module, _, verb = event.partition(".") if isinstance(event, str) else ("", "", "")
        if module not in MODULES or verb not in VERBS:
            raise RecordError(
                "INVALID_DATA",
                f"the event {event!r} is not <module>.<create|edit|delete|all>",
                api_name="events",
                json_path=path,
            )
    return tuple(dict.fromkeys(value))


def _notify_url(value: Any, path: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_URL:
        raise invalid("notify_url", path, "url")
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("notify_url", path, "url")
    return value


def _token(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TOKEN:
        raise RecordError(
            "INVALID_DATA",
            f"token must be a string of at most {MAX_TOKEN} characters",
            api_name="token",
            json_path=path,
        )
    return value


def _flag(item: dict[str, Any], key: str, path: str, default: bool = False) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise invalid(key, f"{path}.{key}", "boolean")
    return value


def _respond(results: list[dict[str, Any]], *, created: bool) -> Response:
    ok = sum(1 for r in results if r["status"] == "success")
    if ok == 0:
        status = 400
    elif ok < len(results):
        status = 207
    else:
        status = 201 if created else 200
    return JSONResponse({"watch": results}, status_code=status)
