"""Disclosure control for the follow-up: the cell-key method (Thompson, Broadfoot & Elazar 2013,
ABS; the "cell key method" of Eurostat's harmonised protection) with a perturbation table that is
unbiased random rounding to base 5 (as Statistics New Zealand's fixed random rounding, base 3 there).
The reasoning, the parameters and the limits are in docs/uppfoljning.md; in short:

* Every unit counted has a fixed pseudo-random 32-bit key, kept in the database beside what is
  counted so that the database sums the keys with the counts (a page reads a few hundred sums):
  an ärende's own record key (``Arende.cellnyckel``, random, fixed when it is created) for the
  open and closed ärenden – the ABS method as published –, and for everything else, whose summary
  table (arenden.statistik) keeps no ärende ids, the finest cells it keeps (a *microcell*: kind,
  key, month, enhet, kön, age band), each keyed by keyed BLAKE2b of its coordinates and its count
  under a secret derived from the instance's index key (``statistik.microcell_key``). No user sees
  a key or anything it is made from but the coordinates.
* A published cell's key is the sum of its microcells' keys modulo 2**32. The same set of units
  therefore always gets the same key, whichever filter, page, CSV or PDF counts it.
* The published count is the true count rounded to a multiple of 5: up with probability r/5 where r
  is the remainder, down otherwise, the cell key being the random draw. No published count is ever
  1–4; every integer combination of published counts is a multiple of 5, so subtracting views (the
  attack that recovered 48 small counts from the old suppression) can never yield 1–4 either; and
  the rounding of two overlapping cells is independent, so their difference says nothing exact.
* Totals are cells of their own (their own key), so they may differ from the sum of their rows.
* Medians and percentiles are shown only over at least DAYS_MIN_N units.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BASE = 5  # every published count is a multiple of this: never 1–4
KEY_BITS = 32
KEY_MOD = 1 << KEY_BITS
DAYS_MIN_N = 10  # medians and percentiles only over at least this many (true count)
HIDDEN_TEXT = "dold (liten grupp)"  # a median over fewer than DAYS_MIN_N
NOTE = ("Talen är avrundade till jämna femtal, slumpvis uppåt eller nedåt, så att ingen enskild kan pekas ut: "
        "0 kan betyda 0–4 och 5 kan betyda 1–9. Varje summa avrundas för sig och kan skilja sig från summan "
        "av raderna. Median och 75:e percentil visas bara där minst tio ärenden ingår; annars står "
        f"”{HIDDEN_TEXT}”.")


@dataclass(frozen=True, slots=True)
class Tally:
    """A true count and the key of the units in it. Never shown: only publish(tally) leaves the wing."""
    n: int = 0
    key: int = 0

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(self.n + other.n, (self.key + other.key) % KEY_MOD)


ZERO = Tally()


def tally_sum(tallies: Iterable[Tally]) -> Tally:
    n = key = 0
    for t in tallies:
        n += t.n
        key += t.key
    return Tally(n, key % KEY_MOD)


def summed(n, key_sum) -> Tally:
    """The Tally of rows the database summed: their count and the sum of their cell keys."""
    return Tally(int(n or 0), int(key_sum or 0) % KEY_MOD) if n else ZERO


def publish(t: Tally) -> int:
    """The published count: the true count rounded to a multiple of BASE, up when the cell key
    falls below remainder/BASE of the key space (so E[published] = true count), down otherwise."""
    low, remainder = divmod(t.n, BASE)
    up = t.key * BASE < remainder * KEY_MOD
    return (low + up) * BASE


def exact(t: Tally) -> int:
    """The true count: for the suite's comparisons only (tests pass it as build(publish=exact))."""
    return t.n


@dataclass(frozen=True)
class Cell:
    """A shown value: a number, or None with the honest reason it is not shown."""
    value: int | None
    text: str = HIDDEN_TEXT

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        return self.text if self.value is None else f"{self.value:,}".replace(",", " ")
