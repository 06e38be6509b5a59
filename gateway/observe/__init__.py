"""What operators see of a running gateway: Prometheus metrics at `/metrics`.

`Metrics` (metrics.py) owns the metric families; the GraphQL extension (extension.py) counts
and times operations, the backends' requesters report each HTTP try, the rate limiters their
refusals; `/metrics` (endpoint.py) renders them for loopback and allowlisted scrapers only.
"""
