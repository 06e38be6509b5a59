"""The cross-system order process (placeOrder) as a journaled, compensated saga."""

from __future__ import annotations

from .approval import ApprovalRules, Decision
from .journal import Journal
from .process import SimulatedCrash
from .sealing import JournalKeyError, Sealer
from .service import OrderProcessService, PlaceOrderOutcome, ProcessView
from .settings import SagaSettings
from .state import IdempotencyConflict, LineInput, OrderInput, ProcessStatus

__all__ = [
    "ApprovalRules",
    "Decision",
    "IdempotencyConflict",
    "Journal",
    "JournalKeyError",
    "LineInput",
    "OrderInput",
    "OrderProcessService",
    "PlaceOrderOutcome",
    "ProcessStatus",
    "ProcessView",
    "SagaSettings",
    "Sealer",
    "SimulatedCrash",
]
