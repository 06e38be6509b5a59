"""Protection of the gateway and the backends: HTTP guard, operation limits and cost, rate
limits, trusted documents, hardening, argument ranges and the operation deadline."""
