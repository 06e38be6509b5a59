"""`python -m bench.tracing`'s report: medians per mode and their ratio to tracing off."""

from __future__ import annotations

from bench.tracing import report


def test_the_report_compares_medians_with_tracing_off() -> None:
    samples = {"off": [10.0, 12.0, 50.0], "on, spans dropped": [11.0, 13.2, 9.0]}
    text = report(samples, "W2", spans_per_request=13.0)
    assert "| off | 12.00 | 1.000x |" in text
    assert "| on, spans dropped | 11.00 | 0.917x |" in text
    assert "spans per request (dropped exporter): 13.0" in text
