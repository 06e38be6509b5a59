"""The hooks behind the newer metrics: every loader's batch function has a system (a new
loader must be added to `LOADER_SYSTEMS`, else it counts as "other"), and a step is timed
from the journal's own times by the journal wrapper, once, by the process that ran it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from gateway.observe.metrics import LOADER_SYSTEMS
from resolvers.batch_sizes import loader_name
from resolvers.erpnext import ERPNext
from resolvers.loaders import KeyedLoader, Loaders
from resolvers.saga import Journal, Sealer
from resolvers.saga.state import LineInput, OrderInput, ProcessState
from resolvers.saga.step_timing import TimedJournal
from resolvers.zoho import ZohoCRM
from tests.support.stack import JOURNAL_KEY


def test_every_loader_is_named_with_its_system(crm: ZohoCRM, scm: ERPNext) -> None:
    loaders = Loaders(crm, scm, row_filters={})
    built = [v for v in vars(loaders).values() if isinstance(v, KeyedLoader)]
    built += [
        loaders.shipment_by_id(with_destination=True),
        loaders.order_shipments(with_destination=True),
    ]
    names = {loader_name(each._loader.batch_load_fn.args[0]) for each in built}
    assert len(names) >= 10
    assert names <= set(LOADER_SYSTEMS), names - set(LOADER_SYSTEMS)


def test_a_step_is_timed_from_its_journal_times(tmp_path: Path) -> None:
    seen: list[tuple[str, str, float]] = []
    journal = TimedJournal(Journal(tmp_path / "o.sqlite", Sealer.from_base64(JOURNAL_KEY)))
    journal.observe = lambda step, outcome, seconds: seen.append((step, outcome, seconds))
    start = datetime.now(UTC)
    order = OrderInput("ACC-1", (LineInput("SKU-A", Decimal(1)),))
    assert journal.claim(ProcessState("p-1", "k-1", "f", order, start, start)) is None
    journal.record_step("p-1", "validate", "started", start)
    journal.record_step("p-1", "validate", "done", start + timedelta(seconds=2))
    journal.record_step("p-1", "erp_order_create", "started", start)
    journal.record_step("p-1", "erp_order_create", "failed", start + timedelta(seconds=5), "X: y")
    journal.record_step("p-1", "erp_order_create", "landed", start + timedelta(seconds=6))
    journal.record_step("p-1", "verify", "failed", start, "no start of its own: not timed")
    assert seen == [("validate", "done", 2.0), ("erp_order_create", "failed", 5.0)]
    assert [e.phase for e in journal.steps("p-1")] == [
        "started",
        "done",
        "started",
        "failed",
        "landed",
        "failed",
    ]
    journal.close()
