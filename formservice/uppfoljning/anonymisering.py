"""Small cells never leave: every count from 1 to 4 is shown as "färre än 5", and so is any
count from which a suppressed one could be worked out.

Three ways a small count could leak, and the rule for each:

1. **Directly**: a cell of 1–4 is suppressed (0 is shown: "nobody" identifies no one).
2. **From a total**: a table shows its total; if only one cell of it is suppressed, total minus
   the others gives it back, so the smallest other non-zero cell is suppressed too.
3. **From two views** (differencing): a view filtered on kön, age band, enhet or a period shows
   cell *c*; the same view without that filter may show *C*; C − c is the complement. A
   complement of 1–4 would be revealed, so *c* is suppressed. For the period, the cell's monthly
   counts are checked: any run of months from either end of the period (what another period
   choice would cut off) must be 0 or at least 5.

A suppressed cell is never the basis for another number on the page: durations (median, 75th
percentile) are shown only over at least five people.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

THRESHOLD = 5
SUPPRESSED_TEXT = "färre än 5"


@dataclass(frozen=True)
class Cell:
    value: int | None  # None: suppressed

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        return SUPPRESSED_TEXT if self.value is None else f"{self.value:,}".replace(",", " ")


def small(n: int) -> bool:
    return 0 < n < THRESHOLD


def protect(counts: Mapping[Hashable, int], *, complements: Iterable[Mapping[Hashable, int]] = (),
            monthly: Mapping[Hashable, Sequence[int]] | None = None) -> dict[Hashable, Cell]:
    """The cells of one table (key -> count), protected by rules 1–3. ``complements``: for each
    active filter, the same table without it; ``monthly``: each cell's counts per month of the
    period, for the period rule."""
    hidden = {key for key, n in counts.items() if small(n)}
    for wider in complements:
        hidden |= {key for key, n in counts.items() if small(wider.get(key, 0) - n)}
    for key, months in (monthly or {}).items():
        if key in counts and _edge_run_small(months):
            hidden.add(key)
    # Rule 2: never exactly one hidden non-zero cell beside a total.
    if len(hidden) == 1:
        rest = sorted((n, str(key)) for key, n in counts.items() if key not in hidden and n > 0)
        if rest:
            smallest = next(key for key, n in counts.items() if str(key) == rest[0][1])
            hidden.add(smallest)
    return {key: Cell(None if key in hidden else n) for key, n in counts.items()}


def total(counts: Mapping[Hashable, int]) -> Cell:
    n = sum(counts.values())
    return Cell(None if small(n) else n)


def _edge_run_small(months: Sequence[int]) -> bool:
    run = 0
    for n in months:
        run += n
        if small(run):
            return True
    run = 0
    for n in reversed(months):
        run += n
        if small(run):
            return True
    return False
