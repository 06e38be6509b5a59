"""`orderProcessInsights` over GraphQL: for orders:approve or ops:read only, the window
checked with a client error, counts and durations only."""

from __future__ import annotations

from tests.support.stack import ClientFor, GraphQLClient

INSIGHTS = """query Insights($since: DateTime!, $until: DateTime) {
  orderProcessInsights(since: $since, until: $until) {
    processes byStatus { name count }
    steps { step durations { count medianSeconds p95Seconds } failures { name count } }
    approvalWait { count } stillHeld { count } holdingRules { rule decision count }
  }
}"""


async def test_admin_reads_insights_and_a_bad_window_is_a_client_error(
    gql: GraphQLClient,
) -> None:
    body = await gql.query(INSIGHTS, since="2020-01-01T00:00:00Z", until="2020-06-01T00:00:00Z")
    assert "errors" not in body, body
    assert body["data"]["orderProcessInsights"]["processes"] == 0
    naive = await gql.query(INSIGHTS, since="2020-01-01T00:00:00")
    assert naive["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "time zone" in naive["errors"][0]["message"]


async def test_roles_without_the_scope_do_not_see_insights(client_for: ClientFor) -> None:
    sales = await client_for("sales").query(INSIGHTS, since="2020-01-01T00:00:00Z")
    assert sales.get("data") in (None, {"orderProcessInsights": None})
    assert sales["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "GRAPHQL_VALIDATION_FAILED")
    ops = client_for(None, scopes=("ops:read",))
    body = await ops.query(INSIGHTS, since="2020-01-01T00:00:00Z", until="2020-02-01T00:00:00Z")
    assert body["data"]["orderProcessInsights"]["processes"] == 0, body
