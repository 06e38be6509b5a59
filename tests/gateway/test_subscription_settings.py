"""`[subscriptions]`: parsed and checked like every section; `enabled = false` takes the
Subscription root and the WebSocket endpoint away."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from gateway.settings import SettingsError, load_settings, parse_settings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.gateway.test_settings import EXAMPLE, SECRET_ENV, minimal
from tests.support.stack import GATEWAY_URL, gateway_settings, token_for


def test_the_example_file_has_the_defaults() -> None:
    subs = load_settings(EXAMPLE, SECRET_ENV).subscriptions
    assert (subs.enabled, subs.max_connections_per_subject) == (True, 5)
    assert subs.connection_init_timeout_s == 10


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"max_connections_per_subject": 0}, "subscriptions.max_connections_per_subject"),
        ({"connection_init_timeout_s": "soon"}, "subscriptions.connection_init_timeout_s"),
        ({"max_connection": 3}, "max_connection"),
    ],
)
def test_bad_values_are_refused_with_the_key_named(table: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        parse_settings(minimal(subscriptions=table))


async def test_disabled_subscriptions_leave_no_root_and_no_stream(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    settings = gateway_settings(tmp_path)
    off = parse_settings(minimal(subscriptions={"enabled": False})).subscriptions
    app = assemble(dataclasses.replace(settings, subscriptions=off), crm=crm, scm=scm)
    assert app.state.change_bus is None
    assert app.state.schema.subscription is None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
        reply = await client.post(
            "/graphql",
            json={"query": "subscription { shipmentChanged { id } }"},
            headers={
                "Authorization": f"Bearer {token_for('admin')}",
                "Accept": "text/event-stream",
            },
        )
    assert reply.status_code < 500
    assert "errors" in reply.json()
