"""Helpers for the tests under tests/saga/ (fixtures: its conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backends.erpnext import bins
from backends.erpnext.store import ErpStore
from backends.fxiaoke.app import FxiaokeEmulator
from backends.fxiaoke.objects import (
    CREDIT_LIMIT,
    EXTERNAL_REF,
    ORDER_STATUS,
    ORDER_STATUS_OPTIONS,
)
from backends.fxiaoke.store import FxStore
from backends.zoho.app import ZohoEmulator
from backends.zoho.store import ZohoStore
from resolvers.erpnext import ERPNext
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.http import RetryPolicy
from resolvers.records import OrderStatus
from resolvers.saga import ApprovalRules, Journal, OrderProcessService, Sealer
from resolvers.saga.outcomes import Patience
from resolvers.saga.process import StepHook
from resolvers.zoho import ZohoCRM
from tests.saga.faults import FaultInjector

erp_app = pytest.importorskip("backends.erpnext.app")


FAST_RETRY = RetryPolicy(attempts=2, backoff_s=0.001, backoff_max_s=0.002)


# Unknown outcomes are read back for 50 ms here (a write that never lands costs no more).
QUICK = Patience(settle_s=0.05, poll_s=0.01)


SKUS = ("SKU-A", "SKU-B")


@dataclass
class Systems:
    """The CRM and ERP emulations, fault injectors in front of each, and our connectors."""

    zoho: ZohoEmulator | FxiaokeEmulator  # the CRM emulation (named for the first one)
    erp: Any
    crm: ZohoCRM | FxiaokeCRM
    scm: ERPNext
    crm_faults: FaultInjector
    scm_faults: FaultInjector
    journal_path: Path
    key: str
    accounts: dict[str, str]
    journals: list[Journal] = field(default_factory=list)

    def service(
        self,
        *,
        rules: ApprovalRules | None = None,
        step_hook: StepHook | None = None,
        patience: Patience = QUICK,
        **options: Any,
    ) -> OrderProcessService:
        journal = Journal(self.journal_path, Sealer.from_base64(self.key))
        self.journals.append(journal)
        return OrderProcessService(
            self.crm, self.scm, journal, rules or ApprovalRules(), step_hook=step_hook,
            patience=patience, **options,
        )  # fmt: skip

    def set_stock(self, sku: str, warehouse: str, actual: float) -> None:
        """Stock on hand of one Bin, as a stock entry outside the gateway would leave it."""
        store = self.erp.store
        bins.ensure(store, sku, warehouse)
        store.execute(
            "UPDATE tabBin SET actual_qty = ? WHERE item_code = ? AND warehouse = ?",
            (actual, sku, warehouse),
        )
        store.recompute_bins()

    def add_crm_product(self, name: str, sku: str, price: int) -> None:
        """An active CRM product, in the shape of whichever CRM runs."""
        if isinstance(self.zoho, FxiaokeEmulator):
            self.zoho.store.insert("ProductObj", [_fx_product(name, sku, price)])
        else:
            self.zoho.store.insert("Products", [_product(name, sku, price)])

    def add_crm_accounts(self, names: list[str], credit_limit: int) -> list[str]:
        if isinstance(self.zoho, FxiaokeEmulator):
            rows = [{"name": n, CREDIT_LIMIT: f"{credit_limit}.00"} for n in names]
            return self.zoho.store.insert("AccountObj", rows)
        zoho_rows = [{"Account_Name": n, "Credit_Limit": credit_limit} for n in names]
        return [str(i) for i in self.zoho.store.insert("Accounts", zoho_rows)]

    def crm_orders(self) -> list[dict[str, Any]]:
        """The CRM's order records, with `id` and `External_Ref` whatever the CRM."""
        if isinstance(self.zoho, FxiaokeEmulator):
            rows = self.zoho.store.select("SalesOrderObj", "1", (), "_id DESC", -1, 0)
            return [
                {
                    "id": r["_id"],
                    "External_Ref": r.get(EXTERNAL_REF),
                    "Status": ORDER_STATUS_OPTIONS.get(r.get(ORDER_STATUS, ""), ""),
                    **r,
                }
                for r in rows
            ]
        return self.zoho.store.select("Sales_Orders", "1", ())

    async def reserved(self) -> dict[tuple[str, str], Decimal]:
        bins = await self.scm.list_bins(list(SKUS))
        return {(s.sku, s.warehouse_id): s.reserved for levels in bins.values() for s in levels}

    async def violations(self) -> list[str]:
        """The cross-system invariants, read from both systems; empty when all hold."""
        problems: list[str] = []
        orders = self.crm_orders()
        refs = [o.get("External_Ref") for o in orders if o.get("External_Ref")]
        problems += [f"duplicate orders for key {r}" for r in set(refs) if refs.count(r) > 1]
        ids = [str(o["id"]) for o in orders]
        mirrors = await self.scm.erp_orders_by_crm_ids(ids) if ids else {}
        canonical = await self.crm.get_orders(ids) if ids else {}
        for order_id, order in canonical.items():
            mirror = mirrors.get(order_id)
            live_mirror = mirror is not None and mirror.docstatus == 1
            if order.status is OrderStatus.APPROVED and not live_mirror:
                problems.append(f"approved CRM order {order_id} has no submitted ERP mirror")
            if (
                order.status is OrderStatus.APPROVED
                and mirror
                and not all(line.reserved >= line.quantity for line in mirror.lines)
            ):
                problems.append(f"approved CRM order {order_id} is not fully reserved")
            if live_mirror and order.status is OrderStatus.CANCELLED:
                problems.append(f"ERP mirror of cancelled CRM order {order_id} still reserves")
        return problems


def _zoho_data(store: ZohoStore) -> dict[str, str]:
    ids = store.insert("Accounts", [
        {"Account_Name": "Northwind Traders", "Credit_Limit": 10000},
        {"Account_Name": "Tiny Shop", "Credit_Limit": 100},
    ])  # fmt: skip
    store.insert("Products", [
        _product("Anvil", "SKU-A", 100),
        _product("Bolt", "SKU-B", 25),
        _product("Old", "SKU-OFF", 5, active=False),
        _product("Crm only", "SKU-NOERP", 5),  # no ERP item
    ])  # fmt: skip
    return {"northwind": ids[0], "tiny": ids[1]}


def _fxiaoke_data(store: FxStore) -> dict[str, str]:
    """`_zoho_data` in a Fxiaoke tenant: the same accounts and products."""
    ids = store.insert("AccountObj", [
        {"name": "Northwind Traders", CREDIT_LIMIT: "10000"},
        {"name": "Tiny Shop", CREDIT_LIMIT: "100"},
    ])  # fmt: skip
    store.insert("ProductObj", [
        _fx_product("Anvil", "SKU-A", 100),
        _fx_product("Bolt", "SKU-B", 25),
        _fx_product("Old", "SKU-OFF", 5, active=False),
        _fx_product("Crm only", "SKU-NOERP", 5),
    ])  # fmt: skip
    return {"northwind": ids[0], "tiny": ids[1]}


def _fx_product(name: str, sku: str, price: int, *, active: bool = True) -> dict[str, Any]:
    status = "1" if active else "2"
    return {"name": name, "product_code": sku, "price": f"{price}.00", "product_status": status}


def _product(name: str, sku: str, price: int, *, active: bool = True) -> dict[str, Any]:
    return {"Product_Name": name, "Product_Code": sku, "Unit_Price": price,
            "Product_Active": active}  # fmt: skip


def _erp_data(store: ErpStore) -> None:
    store.insert("Company", [{"name": "Acme Corp", "company_name": "Acme Corp", "abbr": "AC",
                              "default_currency": "USD"}])  # fmt: skip
    store.insert("Warehouse", [
        {"name": "Stores - AC", "warehouse_name": "Stores", "company": "Acme Corp"},
        {"name": "Finished Goods - AC", "warehouse_name": "Finished Goods", "company": "Acme Corp"},
    ])  # fmt: skip
    store.insert("UOM", [{"name": "Nos", "uom_name": "Nos", "must_be_whole_number": 1},
                         {"name": "Kg", "uom_name": "Kg", "must_be_whole_number": 0}])  # fmt: skip
    store.insert("Item", [
        {"item_code": sku, "item_name": sku, "item_group": "Products", "stock_uom": "Nos",
         "is_stock_item": 1} for sku in (*SKUS, "SKU-OFF")
    ])  # fmt: skip
    stock = {("SKU-A", "Stores - AC"): 50, ("SKU-A", "Finished Goods - AC"): 5,
             ("SKU-B", "Stores - AC"): 3, ("SKU-B", "Finished Goods - AC"): 0}  # fmt: skip
    store.insert("Bin", [
        {"item_code": sku, "warehouse": wh, "actual_qty": qty, "stock_uom": "Nos"}
        for (sku, wh), qty in stock.items()
    ])  # fmt: skip
    store.recompute_bins()


def crash_at(step: str, phase: str) -> Callable[[str, str], None]:
    """A step hook that stops the gateway once, at one point of the process."""
    from resolvers.saga import SimulatedCrash

    def hook(at_step: str, at_phase: str) -> None:
        if (at_step, at_phase) == (step, phase):
            raise SimulatedCrash(f"{step}/{phase}")

    return hook
