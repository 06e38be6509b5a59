"""With shared state, the CRM's OAuth access token is shared by every worker and replica
through Redis (resolvers.state.redis_tokens), so N processes refresh it once, not N times.

    share_crm_token(crm, state)      # in gateway.wiring.assemble; embedded state: nothing

Zoho only: its refresh token's use is limited (docs/dialects.md). Fxiaoke's corpAccessToken
stays per process.
"""

from __future__ import annotations

from typing import Any

from resolvers.ports import CrmPort
from resolvers.state.layer import StateLayer
from resolvers.zoho import ZohoCRM


def share_crm_token(crm: CrmPort, state: StateLayer) -> None:
    """Give a Zoho connector's token source the Redis share when the state is shared."""
    redis: Any = getattr(state, "redis", None)
    if state.kind != "shared" or redis is None or not isinstance(crm, ZohoCRM):
        return
    from resolvers.state.redis_tokens import RedisTokenShare, token_key

    options = crm.options
    prefix = getattr(getattr(state, "settings", None), "key_prefix", "crossdock:")
    identity = (options.accounts_url, options.client_id, options.refresh_token)
    crm.auth.share = RedisTokenShare(
        redis,
        key=token_key(prefix, "zoho", identity),
        secret=(options.client_secret, options.refresh_token),
    )
