"""`[state] share_breakers = true`: an open backend circuit breaker in one process is seen by
every worker and replica (resolvers.state.redis_breakers), not learnt by each from its own
failures.

    sync = share_breakers(settings, crm, scm, state)     # None unless shared and enabled
"""

from __future__ import annotations

from typing import Any

from gateway.settings import Settings
from resolvers.ports import CrmPort, ErpPort
from resolvers.state.layer import StateLayer
from resolvers.state.redis_breakers import BreakerSync


def share_breakers(
    settings: Settings, crm: CrmPort, scm: ErpPort, state: StateLayer
) -> BreakerSync | None:
    """The breakers' sync over the state layer's Redis, or None (off, embedded, no breakers)."""
    redis: Any = getattr(state, "redis", None)
    if not settings.state.share_breakers or state.kind != "shared" or redis is None:
        return None
    breakers = {
        system: breaker
        for system, breaker in (("crm", crm.requester.breaker), ("scm", scm.requester.breaker))
        if breaker is not None
    }
    if not breakers:
        return None
    return BreakerSync(redis, prefix=settings.state.key_prefix, breakers=breakers)
