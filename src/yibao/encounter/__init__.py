"""Encounters (就诊): visits, fee lines, settlement records, accumulators, reconciliation.

The state machines live in :mod:`yibao.encounter.model` (pure); the gateway's handlers call
:mod:`yibao.encounter.service` inside their own transaction.
"""

from yibao.encounter.fees import FeeLine, LineSplit
from yibao.encounter.model import (
    Encounter,
    EncounterError,
    IllegalTransition,
    Kind,
    State,
)
from yibao.encounter.reconcile import DetailResult, DetailRow, Totals, TotalsResult
from yibao.encounter.service import SettlementRecord
from yibao.encounter.store import (
    Accumulators,
    EncounterConflict,
    EncounterNotFound,
    StoredFeeLine,
    accumulator_mismatches,
    lock_accumulators,
)

__all__ = [
    "Accumulators",
    "DetailResult",
    "DetailRow",
    "Encounter",
    "EncounterConflict",
    "EncounterError",
    "EncounterNotFound",
    "FeeLine",
    "IllegalTransition",
    "Kind",
    "LineSplit",
    "SettlementRecord",
    "State",
    "StoredFeeLine",
    "Totals",
    "TotalsResult",
    "accumulator_mismatches",
    "lock_accumulators",
]
