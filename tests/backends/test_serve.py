"""Running the emulations: seed-if-empty, port resolution, and both apps on real sockets."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backends.erpnext.store import ErpStore
from backends.serve import emulations_running, resolve_port, seed_if_empty
from backends.zoho.store import ZohoStore

SCALE = 0.02  # 4 accounts, 40 orders: enough to prove the seed ran


def _open(data_dir: Path) -> tuple[ZohoStore, ErpStore]:
    return ZohoStore(data_dir / "zoho.sqlite3"), ErpStore(data_dir / "erpnext.sqlite3")


def test_empty_stores_are_seeded_once_and_a_restart_keeps_the_data(tmp_path: Path) -> None:
    zoho, erp = _open(tmp_path)
    report = seed_if_empty(zoho, erp, scale=SCALE)
    assert report is not None
    assert report.counts["zoho.Sales_Orders"] == 40
    zoho.close()
    erp.close()

    zoho, erp = _open(tmp_path)  # the restart
    assert seed_if_empty(zoho, erp, scale=SCALE) is None
    assert zoho.count("Sales_Orders") == 40
    assert erp.count("Item") == report.counts["erpnext.Item"]
    zoho.close()
    erp.close()


def test_a_half_filled_pair_of_stores_is_refused_rather_than_duplicated(tmp_path: Path) -> None:
    zoho, erp = _open(tmp_path)
    seed_if_empty(zoho, erp, scale=SCALE)
    zoho.close()
    erp.close()
    (tmp_path / "erpnext.sqlite3").unlink()
    zoho, erp = _open(tmp_path)
    with pytest.raises(RuntimeError, match="delete both"):
        seed_if_empty(zoho, erp, scale=SCALE)
    assert zoho.count("Sales_Orders") == 40
    zoho.close()
    erp.close()


@pytest.mark.parametrize(
    ("given", "env", "expected"),
    [
        (None, {}, 8101),  # nothing set: the documented default
        (None, {"CROSSDOCK_ZOHO_PORT": "9101"}, 9101),  # the environment overrides the default
        (7101, {"CROSSDOCK_ZOHO_PORT": "9101"}, 7101),  # an explicit argument overrides both
        (0, {}, 0),  # 0 asks the OS for a free port
    ],
)
def test_the_port_comes_from_argument_then_environment_then_default(
    given: int | None, env: dict[str, str], expected: int
) -> None:
    assert resolve_port("CROSSDOCK_ZOHO_PORT", given, env) == expected


@pytest.mark.parametrize("raw", ["eighty", "-1", "70000", "", "\u00b2"])  # ² passes isdigit()
def test_a_port_variable_that_is_no_port_is_refused_by_name(raw: str) -> None:
    with pytest.raises(ValueError, match="CROSSDOCK_ERP_PORT"):
        resolve_port("CROSSDOCK_ERP_PORT", None, {"CROSSDOCK_ERP_PORT": raw})


@pytest.mark.sockets
async def test_both_emulations_answer_authenticated_requests_on_free_ports(
    tmp_path: Path,
) -> None:
    async with (
        emulations_running(data_dir=tmp_path, zoho_port=0, erp_port=0, scale=SCALE) as running,
        httpx.AsyncClient(timeout=5) as client,
    ):
        assert running.seeded is not None
        z = running.zoho
        grant = {"grant_type": "refresh_token", "client_id": z.client_id,
                 "client_secret": z.client_secret, "refresh_token": z.refresh_token}  # fmt: skip
        token = (await client.post(f"{running.zoho_url}/oauth/v2/token", data=grant)).json()
        accounts = await client.get(
            f"{token['api_domain']}/crm/v8/Accounts",
            params={"fields": "Account_Name"},
            headers={"Authorization": f"Zoho-oauthtoken {token['access_token']}"},
        )
        assert accounts.status_code == 200
        assert accounts.json()["info"]["count"] == 4

        e = running.erp
        customers = await client.get(
            f"{running.erp_url}/api/resource/Customer",
            params={"limit_page_length": 0},
            headers={"Authorization": f"token {e.api_key}:{e.api_secret}"},
        )
        assert customers.status_code == 200
        assert len(customers.json()["data"]) == 5  # 4 accounts + the dangling crosswalk
