"""The `[inbound]` section: how changes come in from the CRM and the ERP (issue 16):
the backends' notifications and the catch-up poll. What happens to them after they are put
into the change inbox is `[sync]`'s business (the rules); this section only brings them in.

[inbound]
enabled = false                 # receivers, registration and the catch-up poll
public_url = "https://gw.example.com"   # where the backends reach this gateway
                                # (CROSSDOCK_INBOUND_PUBLIC_URL); /hooks/zoho, /hooks/erpnext
notifications = true            # register the Zoho channel and ERPNext webhooks and accept
                                # their calls; false: the poll alone (a backend that cannot
                                # reach the gateway)
zoho_channel_id = "1000000068001"
zoho_token = ""                 # echoed by Zoho in each callback: CROSSDOCK_INBOUND_ZOHO_TOKEN
erpnext_secret = ""             # HMAC key of the webhooks: CROSSDOCK_INBOUND_ERPNEXT_SECRET
channel_ttl_s = 518400          # asked expiry of the Zoho channel (6 days; Zoho allows 7)
renew_before_s = 86400          # renew the channel when it expires within this
register_interval_s = 3600      # check/repair the registration this often (0: startup only)
poll_interval_s = 60            # catch-up poll period (0: no poll)
poll_overlap_s = 120            # each poll re-reads this far behind its watermark (clock skew)
poll_from = "now"               # first poll of a new installation: "now" or "beginning"
watermarks_path = "var/watermarks.sqlite"   # CROSSDOCK_INBOUND_WATERMARKS

Secrets come from the environment in production; they are never logged.

With `[crm] kind = "fxiaoke"` there are no CRM notifications (Fxiaoke has none): the
zoho_* keys are refused, `notifications = true` means ERPNext's webhooks only, and the
catch-up poll (which must run: poll_interval_s > 0) is how CRM changes are heard.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from gateway.settings.section import Section, SettingsError, Table

TOKEN_ENV = "CROSSDOCK_INBOUND_ZOHO_TOKEN"  # noqa: S105 - the variable name, not a secret
SECRET_ENV = "CROSSDOCK_INBOUND_ERPNEXT_SECRET"  # noqa: S105 - a variable name
URL_ENV = "CROSSDOCK_INBOUND_PUBLIC_URL"
WATERMARKS_ENV = "CROSSDOCK_INBOUND_WATERMARKS"
WEEK_S = 7 * 24 * 3600
MIN_SECRET = 16
PollFrom = Literal["now", "beginning"]


@dataclass(frozen=True)
class InboundSettings:
    """The `[inbound]` section, validated."""

    enabled: bool = False
    public_url: str = ""
    notifications: bool = True
    zoho_channel_id: str = "1000000068001"
    zoho_token: str = field(default="", repr=False)
    erpnext_secret: str = field(default="", repr=False)
    channel_ttl_s: int = 6 * 24 * 3600
    renew_before_s: int = 24 * 3600
    register_interval_s: int = 3600
    poll_interval_s: float = 60.0
    poll_overlap_s: float = 120.0
    poll_from: PollFrom = "now"
    watermarks_path: str = "var/watermarks.sqlite"

    @property
    def zoho_hook_url(self) -> str:
        return self.public_url.rstrip("/") + "/hooks/zoho"

    @property
    def erpnext_hook_url(self) -> str:
        return self.public_url.rstrip("/") + "/hooks/erpnext"


def parse_inbound(
    table: Table, env: Mapping[str, str], *, crm_kind: str = "zoho"
) -> InboundSettings:
    """`[inbound]`; enabled with `crm_kind = "fxiaoke"`, the Zoho notification keys are refused
    (Fxiaoke has no change notifications: the catch-up poll is how its changes are heard)."""
    s = Section("inbound", table, env)
    result = InboundSettings(
        enabled=s.flag("enabled", False),
        public_url=s.text("public_url", "", env=URL_ENV),
        notifications=s.flag("notifications", True),
        zoho_channel_id=s.text("zoho_channel_id", InboundSettings.zoho_channel_id),
        zoho_token=s.text("zoho_token", "", env=TOKEN_ENV),
        erpnext_secret=s.text("erpnext_secret", "", env=SECRET_ENV),
        channel_ttl_s=s.integer("channel_ttl_s", InboundSettings.channel_ttl_s, low=60),
        renew_before_s=s.integer("renew_before_s", InboundSettings.renew_before_s, low=0),
        register_interval_s=s.integer("register_interval_s", 3600, low=0),
        poll_interval_s=s.number("poll_interval_s", 60.0),
        poll_overlap_s=s.number("poll_overlap_s", 120.0),
        poll_from=_poll_from(s.choice("poll_from", "now", ("now", "beginning"))),
        watermarks_path=s.text("watermarks_path", "var/watermarks.sqlite", env=WATERMARKS_ENV),
    )
    s.check_unknown()
    if result.enabled and crm_kind == "fxiaoke":
        _refuse_crm_notifications(table, env)
    if result.enabled and crm_kind == "fxiaoke" and result.poll_interval_s <= 0:
        raise SettingsError(
            'inbound.poll_interval_s is 0 but [crm] kind = "fxiaoke": Fxiaoke sends no change '
            "notifications, so the catch-up poll is the only way its changes are heard; set "
            "poll_interval_s > 0 (60 costs about 4,320 of the tenant's daily calls when idle)"
        )
    if result.enabled and result.notifications:
        _check_notifications(result, zoho=crm_kind == "zoho")
    return result


def _refuse_crm_notifications(table: Table, env: Mapping[str, str]) -> None:
    given = [f"inbound.{key}" for key in ("zoho_channel_id", "zoho_token") if key in table]
    given += [TOKEN_ENV] if env.get(TOKEN_ENV) else []
    if given:
        raise SettingsError(
            f"{', '.join(given)} configure CRM change notifications, but [crm] kind = "
            '"fxiaoke" and Fxiaoke\'s OpenAPI has no change notifications (no callback URL to '
            "register): remove them. Fxiaoke's changes are found by the catch-up poll by "
            "last_modified_time ([inbound] poll_interval_s); ERPNext's webhooks still use "
            "public_url and erpnext_secret"
        )


def _poll_from(value: str) -> PollFrom:
    return "beginning" if value == "beginning" else "now"


def _check_notifications(s: InboundSettings, *, zoho: bool = True) -> None:
    parts = urllib.parse.urlsplit(s.public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(
            f"inbound.public_url {s.public_url!r} is not an http(s) URL the backends can call "
            f"(set {URL_ENV} or [inbound] public_url; to poll only, set "
            "[inbound] notifications = false)"
        )
    if zoho and not s.zoho_channel_id.isdigit():
        raise SettingsError("inbound.zoho_channel_id must be digits (Zoho channel ids are numbers)")
    secrets = [("zoho_token", s.zoho_token, TOKEN_ENV, 50)] if zoho else []
    for key, value, env_key, limit in (
        *secrets,
        ("erpnext_secret", s.erpnext_secret, SECRET_ENV, 1024),
    ):
        if not MIN_SECRET <= len(value) <= limit:
            raise SettingsError(
                f"inbound.{key} must be {MIN_SECRET} to {limit} characters (set {env_key}, e.g. "
                "from `python -c 'import secrets; print(secrets.token_urlsafe(24))'`)"
            )
    if zoho and s.channel_ttl_s > WEEK_S:
        raise SettingsError(
            f"inbound.channel_ttl_s {s.channel_ttl_s} exceeds a week ({WEEK_S} s): Zoho would give "
            "the channel one hour instead; lower it"
        )
    if zoho and s.renew_before_s >= s.channel_ttl_s:
        raise SettingsError("inbound.renew_before_s must be shorter than inbound.channel_ttl_s")
