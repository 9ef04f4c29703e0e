"""The rule that turns measured numbers into a verdict (Keras-free).

A comparison claim says one variant has a lower metric (an error, epochs to a threshold) than
another. The *gap* is worse minus better, in the claim's direction; the *spread* is the
seed-to-seed sample standard deviation. A gap counts only against the spread:

* fewer than two seeds anywhere in the record: no spread, so **undecided**;
* gap at least 3 x spread: **reproduced** (or **opposite**, when it points the other way);
* with three or more seeds, a gap between 1 and 3 spreads is **reproduced (weak)** (or
  **opposite (weak)**), and a gap within one spread is **within noise** (the effect, if any, is
  below what our scale resolves);
* otherwise (two seeds, gap under 3 spreads): **undecided** — more seeds are needed.

A claim of the paper's own number (Table 6: ResNet-20 reaches 8.75 %) is **reproduced** when
our mean is at most 3 spreads above it (or below it), and **short of the paper** otherwise.
"""

from __future__ import annotations

import math
import statistics

DECISIVE = 3.0  # a gap of this many spreads decides a claim on two seeds

REPRODUCED = "reproduced"
WEAK = "reproduced (weak)"
OPPOSITE = "opposite"
OPPOSITE_WEAK = "opposite (weak)"
NOISE = "within noise"
UNDECIDED = "undecided"
SHORT = "short of the paper"
NOT_MEASURED = "not yet measured"
NOT_MEASURABLE = "not measurable here"
HOLDS = "holds (computed)"
DIFFERS = "differs (computed)"

VERDICTS = (REPRODUCED, WEAK, OPPOSITE, OPPOSITE_WEAK, NOISE, UNDECIDED, SHORT, NOT_MEASURED,
            NOT_MEASURABLE, HOLDS, DIFFERS)


def mean(values) -> float:
    return statistics.fmean(values)


def spread(values) -> float | None:
    """The sample standard deviation of one variant's seeds; None for fewer than two."""
    return statistics.stdev(values) if len(values) >= 2 else None


def comparison(gap: float, spread_: float | None, seeds: int) -> str:
    """The verdict of a `gap` (worse minus better, positive = the claim's direction) measured
    with `seeds` seeds per variant (the fewest of the two) against `spread_`."""
    if spread_ is None or not math.isfinite(gap):
        return UNDECIDED
    if spread_ == 0:  # identical seeds: any gap at all is many spreads
        return REPRODUCED if gap > 0 else (OPPOSITE if gap < 0 else NOISE)
    ratio = gap / spread_
    if ratio >= DECISIVE:
        return REPRODUCED
    if ratio <= -DECISIVE:
        return OPPOSITE
    if seeds >= 3:
        if abs(ratio) <= 1:
            return NOISE
        return WEAK if ratio > 0 else OPPOSITE_WEAK  # the same strength either way
    return UNDECIDED


def no_gain(decided: str) -> str:
    """The verdict of a claim that an idea does *not* help, from the comparison's verdict with
    the idea as the "worse" side: equal within noise, or worse, reproduces the claim."""
    return {REPRODUCED: REPRODUCED, WEAK: REPRODUCED, NOISE: REPRODUCED}.get(decided, decided)


def reach(ours: float, paper: float, spread_: float | None) -> str:
    """The verdict of our mean error `ours` against the paper's `paper` (lower is better)."""
    if spread_ is None:
        return UNDECIDED
    return REPRODUCED if ours - paper <= DECISIVE * spread_ else SHORT
