"""The `[state]` settings section: where state shared by workers and replicas lives.

[state]
postgres_url = "postgresql://crossdock@db/crossdock"  # CROSSDOCK_POSTGRES_URL; the journal
redis_url = "redis://cache:6379/0"                    # CROSSDOCK_REDIS_URL; limits, locks
postgres_pool_size = 10       # connections per process to PostgreSQL
redis_pool_size = 50          # connections per process to Redis
lease_s = 30                  # a process owned by a replica that stops renewing is taken over
lock_ttl_s = 15               # a lock whose holder stops renewing it expires after this
lock_wait_s = 30              # how long a request waits for a lock before a retryable error
key_prefix = "crossdock:"     # Redis key prefix (several gateways on one Redis)
share_breakers = false        # an open backend circuit breaker is seen by every process

Neither URL (the default): state is embedded (in-process, the journal in SQLite), one
worker only. Both: state is shared (resolvers.state.shared), any number of workers and
replicas. One without the other is an error: half-shared state would multiply silently.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.settings.section import Section, SettingsError, Table
from resolvers.state.config import StateSettings

__all__ = ["StateSettings", "parse_state", "workers_refused"]

POSTGRES_ENV = "CROSSDOCK_POSTGRES_URL"
REDIS_ENV = "CROSSDOCK_REDIS_URL"


def parse_state(table: Table, env: Mapping[str, str]) -> StateSettings:
    """`[state]`; unknown keys and bad values are SettingsErrors naming the key."""
    s = Section("state", table, env)
    result = StateSettings(
        postgres_url=_url(s, "postgres_url", POSTGRES_ENV, ("postgresql://", "postgres://")),
        redis_url=_url(s, "redis_url", REDIS_ENV, ("redis://", "rediss://", "unix://")),
        postgres_pool_size=s.integer("postgres_pool_size", 10, low=1),
        redis_pool_size=s.integer("redis_pool_size", 50, low=1),
        lease_s=_positive(s, "lease_s", 30.0),
        lock_ttl_s=_positive(s, "lock_ttl_s", 15.0),
        lock_wait_s=_positive(s, "lock_wait_s", 30.0),
        key_prefix=s.text("key_prefix", "crossdock:"),
        share_breakers=s.flag("share_breakers", False),
    )
    s.check_unknown()
    if (result.postgres_url is None) != (result.redis_url is None):
        missing = "postgres_url" if result.postgres_url is None else "redis_url"
        variable = POSTGRES_ENV if result.postgres_url is None else REDIS_ENV
        raise SettingsError(
            f"state.{missing} is missing: shared state needs both PostgreSQL and Redis "
            f"(set {variable} or [state] {missing}, or unset the other to keep state embedded)"
        )
    if result.share_breakers and not result.shared:
        raise SettingsError(
            "state.share_breakers needs shared state: set [state] postgres_url and redis_url "
            f"({POSTGRES_ENV}, {REDIS_ENV}), or set share_breakers = false"
        )
    return result


def _url(s: Section, key: str, env_key: str, schemes: tuple[str, ...]) -> str | None:
    value = s.optional_text(key, env=env_key)
    if value is not None and not value.startswith(schemes):
        raise SettingsError(
            f"state.{key} must start with {' or '.join(schemes)} ({env_key} or [state] {key})"
        )
    return value


def _positive(s: Section, key: str, default: float) -> float:
    seconds = s.number(key, default)
    if seconds <= 0:
        raise SettingsError(f"state.{key} must be a number of seconds > 0, got {seconds!r}")
    return seconds


def workers_refused(workers: int) -> SettingsError:
    """Why `serve --workers N` (N > 1) does not start without shared state."""
    return SettingsError(
        f"{workers} workers (--workers or WEB_CONCURRENCY) need shared state: rate limits, "
        "locks and the order journal would otherwise be kept per worker and multiply silently; set "
        f"[state] postgres_url and redis_url ({POSTGRES_ENV}, {REDIS_ENV}), or run one worker"
    )
