"""An institution's year-end settlement of its DRG/DIP cases (机构年度清算结果). Pure.

``owed = final − advanced``: what the fund still owes after the monthly advances, the quality
deposit (``held``) included.

- ``owed ≥ held``: the deposit is released at ``release_ratio`` (the rest forfeited to the fund)
  and the fund pays ``owed − held``.
- ``owed < held``: the deposit first offsets the over-advance (``offset``, deposit → payable);
  what is left of it (``max(owed, 0)``) is released at most ``held × release_ratio``, the rest
  forfeited; if the advances exceeded the final amount (``owed < 0``) the institution owes the
  difference (``receivable``, left on its payable to be offset against later payments).

Identity (tested): ``advanced + released + forfeited + final_payment − receivable = final``.
"""

from __future__ import annotations

from dataclasses import dataclass

UNIT = 10_000


@dataclass(frozen=True, slots=True)
class InstitutionYearEnd:
    final: int
    advanced: int
    held: int
    released: int
    forfeited: int
    offset: int  # deposit applied to an over-advance (HOLD → PAY)
    final_payment: int  # PAY → BANK
    receivable: int  # what the institution owes back (left on PAY)


def _ratio_of(amount: int, units: int) -> int:
    q, r = divmod(amount * units, UNIT)
    return q + (1 if 2 * r >= UNIT else 0)


def settle(final: int, advanced: int, held: int, release_ratio: int) -> InstitutionYearEnd:
    """Split the year's final amount into what is released, forfeited, offset, paid or owed."""
    if min(advanced, held) < 0 or not 0 <= release_ratio <= UNIT:
        raise ValueError("advanced and held must be ≥ 0 fen and the release ratio 0..1")
    releasable = _ratio_of(held, release_ratio)
    owed = final - advanced
    if owed >= held:
        return InstitutionYearEnd(
            final, advanced, held, releasable, held - releasable, 0, owed - held, 0
        )
    remaining = max(owed, 0)
    released = min(releasable, remaining)
    return InstitutionYearEnd(
        final, advanced, held, released, remaining - released, held - remaining, 0, max(-owed, 0)
    )
