"""The `[state]` settings (parsed by gateway.settings.state): where shared state lives."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StateSettings:
    """Where state shared by workers and replicas lives; URLs may hold passwords (no repr).

    Neither URL: embedded state (in-process, the journal in SQLite), one worker.
    Both: shared state, PostgreSQL for the journal and Redis for limits and locks.
    """

    postgres_url: str | None = field(default=None, repr=False)
    redis_url: str | None = field(default=None, repr=False)
    postgres_pool_size: int = 10
    redis_pool_size: int = 50
    lease_s: float = 30.0
    lock_ttl_s: float = 15.0
    lock_wait_s: float = 30.0
    key_prefix: str = "crossdock:"
    share_breakers: bool = False  # an open circuit breaker is seen by every process (Redis)

    @property
    def shared(self) -> bool:
        """True when state lives in PostgreSQL and Redis (several workers may run)."""
        return self.postgres_url is not None and self.redis_url is not None
