"""`retrySyncChange(id)`: a dead change put back through the graph is applied again (scope
`sync:write`, admin only); a wrong id is said in words, never a 5xx."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from tests.support.stack import GraphQLClient
from tests.sync.test_gateway import STATUS, change, client, eventually, synced_app  # noqa: F401

RETRY = "mutation($id: ID!) { retrySyncChange(id: $id) { id retried message } }"


async def dead_change(app: Starlette, scm_emulator: Any) -> dict[str, Any]:
    """A stock change whose rule failed while ERPNext was down (one attempt: dead at once)."""
    scm_emulator.controls.update({"down": True})
    await app.state.sync.put(change("stock", "SKU-1@Stores - AC"))
    admin = client(app, "admin")

    async def dead() -> bool:
        failed = (await admin.data(STATUS))["syncStatus"]["failed"]
        return any(f["state"] == "DEAD" for f in failed)

    await eventually(dead)
    scm_emulator.controls.update({"down": False})
    [failed] = (await admin.data(STATUS))["syncStatus"]["failed"]
    return dict(failed)


async def test_an_admin_retries_a_dead_change_and_it_is_applied(
    synced_app: Starlette,  # noqa: F811
    scm_emulator: Any,
) -> None:
    failed = await dead_change(synced_app, scm_emulator)
    admin = client(synced_app, "admin")
    answer = (await admin.data(RETRY, id=failed["id"]))["retrySyncChange"]
    assert (answer["id"], answer["retried"]) == (failed["id"], True)

    async def applied() -> bool:
        status = (await admin.data(STATUS))["syncStatus"]
        erp = next(s for s in status["sources"] if s["system"] == "erp")
        return status["failed"] == [] and erp["done"] == 1

    await eventually(applied)  # the processor was woken: no wait for its idle round
    again = (await admin.data(RETRY, id=failed["id"]))["retrySyncChange"]
    assert again["retried"] is False
    assert "syncStatus.failed" in again["message"]


async def test_only_sync_write_may_retry_and_a_bad_id_is_refused_in_words(
    synced_app: Starlette,  # noqa: F811
) -> None:
    hidden = ("Cannot query field 'retrySyncChange'", "mutation operation is not supported")
    for role in ("sales", "data_steward", "logistics"):  # no field (or no Mutation at all)
        body = await client(synced_app, role).query(RETRY, id="1")
        assert any(h in body["errors"][0]["message"] for h in hidden), (role, body)
    body = await client(synced_app, "admin").query(RETRY, id="not-a-number")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "syncStatus.failed.id" in error["message"]
    unknown = await client(synced_app, "admin").data(RETRY, id="987654")
    assert unknown["retrySyncChange"]["retried"] is False


async def test_without_sync_a_retry_says_it_is_off(gql: GraphQLClient) -> None:
    body = await gql.query(RETRY, id="1")
    assert body["errors"][0]["extensions"]["code"] == "SYNC_OFF"
    assert "[sync] enabled = false" in body["errors"][0]["message"]
