"""The Grafana dashboard shipped in docs/ uses only metrics the gateway exports: every name in
its queries is a series of a family `/metrics` declares (a renamed metric fails here)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from gateway.settings.sync import SyncSettings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.gateway.test_metrics import client
from tests.support.stack import gateway_settings

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"
SERIES = {
    "counter": ("", "_total"),  # the TYPE line names it with or without _total
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
}


def exported_series(text: str) -> set[str]:
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\w+)$", text, re.MULTILINE):
        names.update(name + suffix for suffix in SERIES.get(kind, ("",)))
    return names


def dashboard_series() -> set[str]:
    document = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [t["expr"] for panel in document["panels"] for t in panel["targets"]]
    assert queries, "the dashboard has no queries"
    return {name for q in queries for name in re.findall(r"\bcrossdock_[a-z_]+", q)}


async def test_every_metric_the_dashboard_queries_is_exported(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    sync = SyncSettings(enabled=True, inbox_path=str(tmp_path / "sync.sqlite"))
    app = assemble(replace(gateway_settings(tmp_path), sync=sync), crm=crm, scm=scm)
    text = (await client(app).get("/metrics")).text
    exported = exported_series(text)
    missing = dashboard_series() - exported
    assert not missing, f"the dashboard queries metrics the gateway does not export: {missing}"
    assert len(dashboard_series()) >= 10
