"""The `[reconcile]` settings section: reconciliation's schedule, store and scan sizes
(resolvers.reconcile.settings has the example)."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.auth.tokens import parse_ttl
from gateway.settings.section import Section, SettingsError, Table
from resolvers.reconcile.settings import DEFAULT_PATH, ReconcileSettings

PATH_ENV = "CROSSDOCK_RECONCILE_PATH"


def parse_reconcile(table: Table, env: Mapping[str, str]) -> ReconcileSettings:
    s = Section("reconcile", table, env)
    result = ReconcileSettings(
        enabled=s.flag("enabled", True),
        every_s=_duration(s.text("every", "0"), "every", allow_zero=True),
        store_path=s.text("store_path", DEFAULT_PATH, env=PATH_ENV),
        page_size=s.integer("page_size", 200, low=10),
        draft_max_age_s=_duration(s.text("draft_max_age", "24h"), "draft_max_age"),
    )
    s.check_unknown()
    if result.page_size > 500:
        raise SettingsError("reconcile.page_size must be at most 500 (ERPNext's page limit here)")
    return result


def _duration(text: str, key: str, *, allow_zero: bool = False) -> float:
    if allow_zero and text.strip() in ("0", "off", ""):
        return 0.0
    try:
        return parse_ttl(text.strip()).total_seconds()
    except ValueError:
        raise SettingsError(
            f'reconcile.{key} {text!r} is not a duration; use e.g. "90s", "15m", "1h" or "7d"'
            + (' ("0" turns it off)' if allow_zero else "")
        ) from None
