"""The per-request context: loaders always carry the row filters the request runs under."""

from __future__ import annotations

import gc
import weakref

import pytest

from backends.erpnext.app import ErpEmulator
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from schema.analysis import unrestricted
from schema.build import build_schema
from schema.context import AnalysisError, make_context
from schema.principal import ANONYMOUS, Principal


async def test_loaders_are_built_from_the_analysis_the_context_was_given(
    crm: ZohoCRM, scm: ERPNext, scm_emulator: ErpEmulator
) -> None:
    context = make_context(crm=crm, scm=scm)
    context.analysed(unrestricted(ANONYMOUS, row_filters={"Shipment": {"carrier": None}}))
    scm_emulator.stats.reset()
    page = await context.loaders.list_shipments(first=5, after=None, status=None, carrier=None)
    assert context.loaders.shipment_scope.restricted
    assert page.items == ()
    assert scm_emulator.stats.total == 0  # no rows may match: nothing asked


def test_a_context_takes_one_analysis_and_only_before_its_loaders(
    crm: ZohoCRM, scm: ERPNext
) -> None:
    analysed = make_context(crm=crm, scm=scm)
    first = unrestricted(ANONYMOUS)
    analysed.analysed(first)
    analysed.analysed(first)  # the same one again: nothing changes
    with pytest.raises(AnalysisError, match="already has"):
        analysed.analysed(unrestricted(ANONYMOUS, row_filters={"Shipment": {"carrier": "DHL"}}))
    early = make_context(crm=crm, scm=scm)
    assert not early.loaders.shipment_scope.restricted  # built unrestricted: too late now
    with pytest.raises(AnalysisError, match="loaders were built"):
        early.analysed(unrestricted(ANONYMOUS, row_filters={"Shipment": {"carrier": None}}))


def test_an_operation_copy_keeps_the_caller_and_nothing_it_read(crm: ZohoCRM, scm: ERPNext) -> None:
    caller = Principal(subject="ana", roles=frozenset({"partner"}), partner_id="DHL")
    connection = make_context(crm=crm, scm=scm, principal=caller)
    connection.expires_at = 123.0
    connection.analysed(unrestricted(caller))
    connection.disclosed.add("Order.approvalReason")
    copy = connection.for_operation()
    assert copy.principal is caller
    assert copy.expires_at == 123.0
    assert copy.analysis is None
    assert copy.disclosed == set()
    assert copy.loaders is not connection.loaders


async def test_loaders_are_kept_while_the_row_filters_stay_the_same(
    crm: ZohoCRM, scm: ERPNext
) -> None:
    context = make_context(crm=crm, scm=scm, row_filters={"Shipment": {"carrier": "DHL"}})
    assert context.loaders is context.loaders
    assert context.loaders.shipment_scope.carrier == "DHL"


async def test_a_listed_page_without_destinations_answers_the_same_shipments_by_id(
    crm: ZohoCRM, scm: ERPNext, scm_emulator: ErpEmulator
) -> None:
    loaders = make_context(crm=crm, scm=scm).loaders
    scm_emulator.stats.reset()
    page = await loaders.list_shipments(
        first=3, after=None, status=None, carrier=None, with_destination=False
    )
    listed = scm_emulator.stats.total
    ids = [s.id for s in page.items]
    again = await loaders.shipment_by_id(with_destination=False).load_many(ids)
    assert [s.id for s in again if s is not None] == ids
    assert all(s is not None and s.destination is None for s in again)
    assert scm_emulator.stats.total == listed  # primed by the listing: no call
    routes = scm_emulator.stats.snapshot()["routes"]
    assert not [route for route in routes if "Address" in route], routes
    full = await loaders.shipment_by_id(with_destination=True).load(ids[0])
    assert full is not None
    assert full.destination is not None  # the other loader reads them


async def test_an_operations_loaders_are_freed_when_it_ends_without_a_collection(
    crm: ZohoCRM, scm: ERPNext
) -> None:
    """graphql-core's executor and strawberry's execution context form reference cycles that
    reach the context; the schema releases the context's loaders when the operation ends."""
    context = make_context(crm=crm, scm=scm)
    gone = weakref.ref(context.loaders)  # the loaders the operation will use
    gc.disable()
    try:
        result = await build_schema().execute(
            "{ products(first: 3) { nodes { sku name } } }", context_value=context
        )
        assert result.errors is None  # the answer is kept; the operation's loaders must not be
        assert gone() is None  # released when it ended, freed by reference counting alone
    finally:
        gc.enable()
