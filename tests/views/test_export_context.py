"""Each page of an export runs with the request's caller but with caches of its own."""

from __future__ import annotations

from dataclasses import replace

from gateway.views.export import fresh_context
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from schema.context import make_context
from schema.principal import Principal


def test_a_page_context_keeps_the_caller_and_drops_the_last_pages_caches(
    crm: ZohoCRM, scm: ERPNext
) -> None:
    caller = Principal(subject="bi", roles=frozenset({"partner"}), partner_id="DHL")
    filters = {"Shipment": {"carrier": "DHL"}}
    first = make_context(crm=crm, scm=scm, principal=caller, row_filters=filters, request_id="r1")
    loaders = first.loaders
    first.memo[("names", 1)] = (object(), frozenset({"id"}))
    first.access = replace(first.access, denied=frozenset({"Shipment.value"}))

    page = fresh_context(first)
    assert page.principal is caller
    assert page.access.row_filters is filters
    assert page.request_id == "r1"
    assert page.memo == {}
    assert page.access.denied == frozenset()
    assert page.dimensions is loaders  # reference data: shared by every page
    assert page.loaders is not loaders
