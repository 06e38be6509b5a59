"""Change sync between the CRM and the ERP: changes in (notifications and catch-up polls),
sync rules that carry them to the other system, and processed changes out (subscriptions).

`change` holds the record every part shares: receivers produce `Change`s into a `ChangeSink`
(the durable inbox), the processor applies the sync rules to them, and publishes each
processed change on the `ChangeBus` that subscriptions listen to.
"""

from __future__ import annotations

from .bus import ChangeBus
from .change import Change, ChangeSink, Entity, Operation, Origin, System

__all__ = ["Change", "ChangeBus", "ChangeSink", "Entity", "Operation", "Origin", "System"]
