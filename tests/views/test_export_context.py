"""Each page of an export runs with the request's caller but with caches of its own."""

from __future__ import annotations

from gateway.views.export import fresh_context
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from schema.analysis import FieldDecision, RequestAnalysis
from schema.context import make_context
from schema.principal import Principal


def test_a_page_context_keeps_the_caller_and_drops_the_last_pages_caches(
    crm: ZohoCRM, scm: ERPNext
) -> None:
    caller = Principal(subject="bi", roles=frozenset({"partner"}), partner_id="DHL")
    filters = {"Shipment": {"carrier": "DHL"}}
    first = make_context(crm=crm, scm=scm, principal=caller, request_id="r1")
    analysis = RequestAnalysis(
        caller, row_filters=filters, decisions={"Shipment.value": FieldDecision("deny")}
    )
    first.analysed(analysis)
    loaders = first.loaders
    first.memo[("names", 1)] = (object(), frozenset({"id"}))
    first.disclosed.add("Order.approvalReason")

    page = fresh_context(first)
    assert page.principal is caller
    assert page.analysis is analysis  # the export's one analysis: never made again
    assert page.row_filters is filters
    assert page.denied == frozenset({"Shipment.value"})
    assert page.request_id == "r1"
    assert page.memo == {}
    assert page.disclosed == set()
    assert page.dimensions is loaders  # reference data: shared by every page
    assert page.loaders is not loaders
