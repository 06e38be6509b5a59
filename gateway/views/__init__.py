"""Joined views for BI tools: flat CSV / NDJSON / Parquet exports of the graph, streamed,
incremental, typed.

    catalog = load_views(None)                    # the shipped views_default.toml
    mount_views(app, catalog, policy=policy)      # checks the views, adds the routes below

HTTP (Bearer auth, same token, scopes, masks and row rules as /graphql):

    GET /views                      the views the caller may read, with their columns
    GET /views/{name}               one view's columns with their types (JSON)
    GET /views/{name}.csv|.ndjson|.parquet   the export (no extension: chosen by Accept)
        ?updated_since=<RFC 3339>   only rows whose root entity changed at or after it
        ?limit=<n>                  at most n rows

Answers: 401 without a valid token; 404 for an unknown view or one the caller may not read
(listing those it may); 406 for another format; 400 naming a bad parameter; 403 when a
column is unreadable and `ViewOptions(denied_columns="error")`; otherwise columns the caller
may not read are left out and named in `Crossdock-Omitted-Columns`. A backend failure on
the first page is an HTTP error (502/503/504); later, it aborts the transfer (no last chunk,
the connection closes): a file holds rows only, never a trailer or an error record.

Watermark: `Crossdock-Watermark` is the export's start time, to the second. Store it only
when the transfer completed and
pass it as `updated_since` next time: every change made after the export started is in
the next run, so nothing is lost; a row changed while the export ran may come twice (dedupe
by key). `updated_since` applies to the root entity's modification time (the order for
`order_lines`, the shipment for `shipments`), pushed to the source system (`>=`).
Clock skew: the watermark is read on the gateway's clock and compared with the backends'
modification times; a backend clock behind the gateway's by more than
`ViewOptions.watermark_overlap_s` (default 0) can lose changes made in that gap, so set it
to the worst expected skew (the cost: more rows come twice).

A page answered with any GraphQL error (even with partial data, e.g. ERPNext down for the
stock column) ends the export with that error: a null cell always means "no value", never
"could not be read". A client that disconnects cancels the export: no further page is read.
Each export takes one rate-limiter token, like one /graphql request, however many pages.
CSV cells a spreadsheet would run as formulas get a leading `'` unless
`ViewOptions(csv_formulas="keep")` (`gateway.views.encode`); NDJSON is never altered.
"""

from __future__ import annotations

from gateway.views.encode import CsvEncoder, NdjsonEncoder, defuse_formula
from gateway.views.export import Export, ExportFailed
from gateway.views.model import (
    Column,
    View,
    ViewCatalog,
    ViewConfigError,
    load_views,
    parse_view_catalog,
)
from gateway.views.mount import mount_views
from gateway.views.plan import ViewPlan, plan_view
from gateway.views.routes import (
    OMITTED_HEADER,
    WATERMARK_HEADER,
    ViewEndpoints,
    ViewOptions,
    view_routes,
)
from gateway.views.validate import check_view, check_views

__all__ = [
    "OMITTED_HEADER",
    "WATERMARK_HEADER",
    "Column",
    "CsvEncoder",
    "Export",
    "ExportFailed",
    "NdjsonEncoder",
    "View",
    "ViewCatalog",
    "ViewConfigError",
    "ViewEndpoints",
    "ViewOptions",
    "ViewPlan",
    "check_view",
    "check_views",
    "defuse_formula",
    "load_views",
    "mount_views",
    "parse_view_catalog",
    "plan_view",
    "view_routes",
]
