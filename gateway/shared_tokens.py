"""With shared state, the CRM's OAuth access token is shared by every worker and replica
through Redis (resolvers.state.redis_tokens), so N processes refresh it once, not N times.

    share_crm_token(crm, state)      # in gateway.wiring.assemble; embedded state: nothing

Zoho's refresh token's use is limited (docs/dialects.md); Fxiaoke's token endpoints allow 10
calls a minute and no concurrent calls, so N workers starting at once would trip them.
"""

from __future__ import annotations

from typing import Any

from resolvers.fxiaoke import FxiaokeCRM
from resolvers.ports import CrmPort
from resolvers.state.layer import StateLayer
from resolvers.zoho import ZohoCRM


def share_crm_token(crm: CrmPort, state: StateLayer) -> None:
    """Give a Zoho or Fxiaoke connector's token source the Redis share when the state is
    shared."""
    redis: Any = getattr(state, "redis", None)
    if state.kind != "shared" or redis is None:
        return
    from resolvers.state.redis_tokens import RedisTokenShare, token_key

    prefix = getattr(getattr(state, "settings", None), "key_prefix", "crossdock:")
    if isinstance(crm, ZohoCRM):
        z = crm.options
        crm.auth.share = RedisTokenShare(
            redis,
            key=token_key(prefix, "zoho", (z.accounts_url, z.client_id, z.refresh_token)),
            secret=(z.client_secret, z.refresh_token),
        )
    elif isinstance(crm, FxiaokeCRM):
        f = crm.options
        identity = (f.base_url, f.app_id, f.permanent_code, f.auth)  # one token per generation
        crm.auth.share = RedisTokenShare(
            redis,
            key=token_key(prefix, "fxiaoke", identity),
            secret=(f.app_secret, f.permanent_code),
        )
