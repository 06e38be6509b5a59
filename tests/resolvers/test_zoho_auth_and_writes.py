"""ZohoCRM token handling, retries and writes against the emulated Zoho CRM."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest

from backends.zoho.app import ZohoEmulator
from backends.zoho.store import ZohoStore
from resolvers.errors import BackendAuthError, BackendRejected, BackendUnavailable
from resolvers.http import Requester, RetryPolicy, Timeouts
from resolvers.records import OrderStatus
from resolvers.zoho import ZohoCRM
from resolvers.zoho.auth import ZohoTokenSource
from tests.support.connectors import ZOHO_URL, SleepSpy, account, product, zoho_id, zoho_options


def token_calls(emulator: ZohoEmulator) -> int:
    return int(emulator.stats.snapshot()["routes"].get("POST /oauth/v2/token", 0))


async def test_an_expired_token_is_refreshed_once_and_the_call_retried(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_emulator: ZohoEmulator
) -> None:
    zoho_store.insert("Accounts", [account(1)])
    await crm.get_accounts([zoho_id(1)])

    zoho_emulator.expire_tokens()
    found = await crm.get_accounts([zoho_id(1)])

    assert list(found) == [zoho_id(1)]
    assert token_calls(zoho_emulator) == 2


async def test_concurrent_callers_share_one_token_refresh(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_emulator: ZohoEmulator
) -> None:
    zoho_store.insert("Accounts", [account(1)])

    await asyncio.gather(*(crm.get_accounts([zoho_id(1)]) for _ in range(10)))

    assert token_calls(zoho_emulator) == 1


async def test_a_bad_refresh_token_is_an_auth_error_that_names_no_secret(
    zoho_client: httpx.AsyncClient,
) -> None:
    crm = ZohoCRM(zoho_client, zoho_options(refresh_token="wrong-refresh-secret"))

    with pytest.raises(BackendAuthError) as caught:
        await crm.ping()

    assert caught.value.system == "crm"
    assert "wrong-refresh-secret" not in caught.value.message
    assert "crossdock-demo-secret" not in caught.value.message


async def test_5xx_reads_are_retried_then_reported_as_unavailable(
    crm: ZohoCRM, zoho_emulator: ZohoEmulator, sleep: SleepSpy
) -> None:
    await crm.ping()
    zoho_emulator.controls.update({"error_rate": 1.0})

    with pytest.raises(BackendUnavailable) as caught:
        await crm.list_products(first=5, after=None)

    assert caught.value.message == "Zoho CRM returned 500 for GET /crm/v8/Products; retried 2 times"
    assert len(sleep.delays) == 2


async def test_flaky_reads_succeed_after_retries(
    zoho_client: httpx.AsyncClient, zoho_store: ZohoStore, zoho_emulator: ZohoEmulator
) -> None:
    zoho_store.insert("Products", [product(1, "SKU-1")])
    spy = SleepSpy()
    crm = ZohoCRM(zoho_client, zoho_options(retry=RetryPolicy(attempts=8)), sleep=spy)
    zoho_emulator.controls.update({"error_rate": 0.5, "seed": 3})

    page = await crm.list_products(first=5, after=None)

    assert [p.sku for p in page.items] == ["SKU-1"]
    assert spy.delays  # seed 3 fails at least once before succeeding


async def test_a_429_retry_after_is_honoured_and_capped(
    zoho_client: httpx.AsyncClient, zoho_emulator: ZohoEmulator
) -> None:
    spy = SleepSpy()
    policy = RetryPolicy(attempts=3, retry_after_max_s=5.0)
    crm = ZohoCRM(zoho_client, zoho_options(retry=policy), sleep=spy)
    zoho_emulator.controls.update({"throttle_rate": 1.0, "retry_after_s": 30})

    with pytest.raises(BackendUnavailable, match="returned 429"):
        await crm.ping()

    assert spy.delays == [5.0, 5.0]


async def test_upserting_twice_with_one_external_ref_makes_one_order(
    crm: ZohoCRM, zoho_store: ZohoStore
) -> None:
    zoho_store.insert("Accounts", [account(1)])
    zoho_store.insert("Products", [product(1, "SKU-1")])
    lines = [(zoho_id(90_001), Decimal(3), Decimal("19.99"))]

    def place() -> object:
        return crm.upsert_order(
            external_ref="idem-1", subject="Web order", account_id=zoho_id(1),
            status="Pending Approval", lines=lines, currency="EUR",
        )  # fmt: skip

    first, created = await place()  # type: ignore[misc]
    again, created_again = await place()  # type: ignore[misc]

    assert (created, created_again) == (True, False)
    assert first.id == again.id
    assert first.status is OrderStatus.PENDING_APPROVAL
    assert [(line.sku, line.quantity) for line in again.lines] == [("SKU-1", Decimal(3))]
    assert zoho_store.count("Sales_Orders") == 1


async def test_setting_an_order_status_returns_the_updated_order(
    crm: ZohoCRM, zoho_store: ZohoStore
) -> None:
    zoho_store.insert("Accounts", [account(1)])
    zoho_store.insert("Products", [product(1, "SKU-1")])
    placed, _ = await crm.upsert_order(
        external_ref="idem-2", subject="S", account_id=zoho_id(1), status="Pending Approval",
        lines=[(zoho_id(90_001), Decimal(1), Decimal(5))], currency="USD",
    )  # fmt: skip

    approved = await crm.set_order_status(placed.id, "Approved")

    assert approved.status is OrderStatus.APPROVED


async def test_a_rejected_record_raises_with_zohos_code_and_field(
    crm: ZohoCRM, zoho_store: ZohoStore
) -> None:
    with pytest.raises(BackendRejected) as caught:
        await crm.upsert_order(
            external_ref="idem-3", subject="", account_id=zoho_id(1), status="Created",
            lines=[], currency="USD",
        )  # fmt: skip

    assert caught.value.backend_code in {"MANDATORY_NOT_FOUND", "INVALID_DATA"}
    assert caught.value.system == "crm"


async def test_a_token_is_refreshed_before_it_expires_without_a_401(
    zoho_client: httpx.AsyncClient, zoho_emulator: ZohoEmulator
) -> None:
    now = [1000.0]
    requester = Requester(
        zoho_client, system="crm", label="Zoho CRM", timeouts=Timeouts(), retry=RetryPolicy()
    )
    source = ZohoTokenSource(
        requester, accounts_url=ZOHO_URL, client_id="crossdock-demo",
        client_secret="crossdock-demo-secret", refresh_token="crossdock-demo-refresh",
        clock=lambda: now[0],
    )  # fmt: skip

    first = await source.current()
    now[0] += 3600 - 30  # inside the safety margin of a one-hour token
    second = await source.current()

    assert first.access_token != second.access_token
    assert first.api_domain == ZOHO_URL  # the API domain comes from the token response
    assert token_calls(zoho_emulator) == 2


class SearchLagTransport(httpx.AsyncBaseTransport):
    """Zoho's documented search indexing lag (§A.5): fresh records answer 204 on search."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search"):
            return httpx.Response(204)
        return await self.inner.handle_async_request(request)


async def test_an_order_search_cannot_see_yet_is_found_through_the_duplicate_on_its_ref(
    zoho_emulator: ZohoEmulator, zoho_store: ZohoStore
) -> None:
    zoho_store.insert("Accounts", [account(1)])
    zoho_store.insert("Products", [product(1, "SKU-1")])
    lagging = SearchLagTransport(httpx.ASGITransport(app=zoho_emulator.app))
    async with httpx.AsyncClient(transport=lagging, base_url=ZOHO_URL) as client:
        crm = ZohoCRM(client, zoho_options())
        lines = [(zoho_id(90_001), Decimal(2), Decimal(5))]
        placed = [
            await crm.upsert_order(
                external_ref="idem-9",
                subject="S",
                account_id=zoho_id(1),
                status="Created",
                lines=lines,
                currency="USD",
            )
            for _ in range(2)
        ]

    (first, created), (again, created_again) = placed
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert len(again.lines) == 1  # not appended twice
    assert zoho_store.count("Sales_Orders") == 1
