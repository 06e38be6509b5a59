"""`Query.reconciliation` through the production gateway: for reconcile:read only."""

from __future__ import annotations

from tests.support.stack import ClientFor

QUERY = """query ($c: [String!]) { reconciliation(categories: $c) {
  id category severity summary fix crm { kind id } erp { kind id } values { name value } } }"""


async def test_a_data_steward_reads_the_findings(client_for: ClientFor) -> None:
    data = await client_for("data_steward").data(QUERY)
    found = {f["category"]: f for f in data["reconciliation"]}
    assert sorted(found) == [
        "customer_without_account",
        "product_without_item",
        "shipment_for_cancelled_order",
    ]
    shipment = found["shipment_for_cancelled_order"]
    assert shipment["severity"] == "ERROR"
    assert shipment["erp"] == [{"kind": "shipment", "id": "SHIPMENT-00001"}]
    assert {"name": "crm.status", "value": "CANCELLED"} in shipment["values"]


async def test_categories_narrow_and_unknown_ones_are_a_client_error(
    client_for: ClientFor,
) -> None:
    steward = client_for("data_steward")
    narrowed = await steward.data(QUERY, c=["product_without_item"])
    assert [f["category"] for f in narrowed["reconciliation"]] == ["product_without_item"]
    bad = await steward.query(QUERY, c=["nope"])
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "known: product_without_item" in bad["errors"][0]["message"]


async def test_sales_may_not_read_findings(client_for: ClientFor) -> None:
    body = await client_for("sales").query(QUERY)
    assert body.get("data") is None
    assert "Cannot query field 'reconciliation'" in body["errors"][0]["message"]
