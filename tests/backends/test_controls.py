"""The fault knobs refuse values that would break every later request."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from backends.controls import Controls
from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore

BAD_KNOBS = [
    ({"latency_ms": "100"}, "latency_ms must be a number in [0, 60000]"),  # a string
    ({"latency_ms": -1}, "latency_ms must be a number"),  # negative sleep
    ({"latency_ms": 1e9}, "latency_ms must be a number"),  # a request that never ends
    ({"error_rate": 1.5}, "error_rate must be a number in [0, 1]"),  # not a share
    ({"throttle_rate": True}, "throttle_rate must be a number"),  # bool is not a rate
    ({"retry_after_s": 1.5}, "retry_after_s must be an integer"),  # Retry-After is whole seconds
    ({"down": 1}, "down must be true or false"),  # 1 is not a bool
    ({"seed": [1]}, "seed must be an integer"),  # random.seed would raise later
    ({"speed": 1}, "unknown fault knob(s) ['speed']"),  # a typo
]


@pytest.mark.parametrize(("values", "message"), BAD_KNOBS)
def test_a_bad_knob_is_refused_and_changes_nothing(values: dict[str, Any], message: str) -> None:
    controls = Controls()
    with pytest.raises(ValueError, match=re.escape(message)):
        controls.update({"error_rate": 0.5, **values})
    assert controls.as_dict() == Controls().as_dict()


async def test_the_admin_endpoint_answers_400_to_bad_knobs_and_keeps_serving() -> None:
    store = ErpStore(":memory:")
    emulator = ErpEmulator(store, ErpSettings(admin_enabled=True))
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp.test") as client:
        bad = await client.post("/_emulator/faults", json={"latency_ms": "slow"})
        deep = await client.post("/_emulator/faults", content="[" * 5000 + "]" * 5000)
        after = await client.get("/api/method/frappe.auth.get_logged_user")
    store.close()
    assert bad.status_code == 400
    assert bad.json() == {"error": "fault knob latency_ms must be a number in [0, 60000]"}
    assert deep.status_code == 400
    assert after.status_code == 401  # served normally: no credentials
    assert emulator.controls.latency_ms == 0.0
