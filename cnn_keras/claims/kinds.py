"""The three kinds of evidence a claim rests on, each evaluated to one scoreboard row.

* `Compare`: a measured comparison of two variants of a recorded study (`evidence.Record`):
  the gap in a metric against the seed-to-seed spread (`verdict.comparison`).
* `Reach`: a recorded number against the paper's own (`verdict.reach`).
* `Count`: a counting claim (parameters, multiply-adds, receptive fields) decided by computing
  it from the built nets.
* `Unmeasurable`: a claim our scale cannot resolve, with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cnn_keras.claims import verdict
from cnn_keras.claims.evidence import Record, load_record

# how each metric reads in a row
_UNITS = {"final_train_error": ("training error", "%"),
          "final_test_error": ("test error", "%"),
          "final_train_error_clean": ("training error (evaluated as the test set)", "%"),
          "epochs_to_threshold": ("epochs to the threshold", ""),
          "generalisation_gap": ("test minus training error", " points"),
          "final_test_error_q": ("test error at the test scale Q", "%")}


@dataclasses.dataclass(frozen=True)
class Compare:
    record: str  # the record under results/ (and its -seed<N> repeats)
    metric: str  # a column of summary.csv, lower is better (evidence.METRICS)
    # The variants the claim says are lower (better) and higher; a tuple is a sweep, of which
    # the best (lowest mean) counts: a learning-rate sweep per net, or the best single dimension.
    better: str | tuple
    worse: str | tuple
    plan: str  # the decisive experiment: what to run to make (or repeat) the record
    # "lower": `better` is lower than `worse`; "no gain": `worse` (the side with the idea whose
    # gain the claim denies) is *not* lower than `better`: within noise, or higher, reproduces
    # the claim; `worse` lower by 3 spreads is "opposite" (by 1-3 with 3 seeds, "opposite (weak)")
    expect: str = "lower"
    # A claim that an idea costs *little*: the paper's own cost (the gap `worse` minus `better`
    # it measured). The claim holds while our gap is not larger than it by more than the noise
    # (a decisive gap in the "lower" sense alone would call a ten-point cost "reproduced").
    cost: float | None = None
    # The CPU version of a GPU record (fewer epochs, or the same run on a CPU): it decides the
    # claim while `record` lacks a variant the claim compares (`load_either`).
    fallback: str = ""
    # A sweep the claim is about (a curve from `better` to `worse`): each point's mean is listed
    # in the row, so the reader sees the curve's shape, which the verdict on its ends does not
    # judge.
    curve: tuple[str, ...] = ()

    def __post_init__(self):
        if self.curve and (self.curve[0], self.curve[-1]) != (self.better, self.worse):
            raise ValueError(f"A curve runs from `better` to `worse` ({self.better!r} to "
                             f"{self.worse!r}). Received: curve={self.curve!r}")

    def evaluate(self, results) -> dict:
        members = _members(self.better) + _members(self.worse)
        rec = load_either(results, self.record, self.fallback, self.metric, members)
        if rec is None:
            return {"ours": "-", "setup": self.plan, "verdict": verdict.NOT_MEASURED}
        values = rec.values[self.metric]
        partial = sorted(((v, seed) for m, v, seed in rec.partial
                          if m == self.metric and v in members),
                         key=lambda vs: (vs[1], members.index(vs[0])))
        partial_names = ", ".join(dict.fromkeys(v for v, _ in partial))
        incomplete = self._incomplete(rec, values, members, partial, partial_names)
        if incomplete:
            return incomplete
        # members tied on epochs that none reached: the one nearest to it (its final training
        # error) counts, not the first listed
        tie = (rec.values.get("final_train_error", {}) if self.metric == "epochs_to_threshold"
               else {})
        (kb, b), (kw, w) = _best(values, self.better, tie), _best(values, self.worse, tie)
        gap = verdict.mean(w) - verdict.mean(b)
        spread, source = _spread(rec, self.metric, (kb, kw))
        seeds = min(len(b), len(w))
        if self.cost is not None:
            decided = verdict.no_gain(verdict.comparison(self.cost - gap, spread, seeds))
        else:
            decided = verdict.comparison(gap, spread, seeds)
            if self.expect == "no gain":
                decided = verdict.no_gain(decided)
        bounds = [k for k in (kb, kw) if (self.metric, k) in rec.censored]
        left = sorted({seed for _, seed in partial})
        left_out = (f"; not counted: seed{'s' * (len(left) > 1)} {', '.join(map(str, left))} "
                    f"of {partial_names} (a clean training "
                    "error from the first 10,000 training images)") if partial else ""
        setup = f"{rec.setup}; `results/{rec.name}`"
        if decided == verdict.UNDECIDED and self.plan:  # what the reader waits for
            setup += (f"; to decide, more seeds of: {self.plan.removeprefix('not yet run: ')},"
                      f" the next with {_next_seed(rec, (kb, kw))}")
        return {"ours": self._describe(kb, b, kw, w, gap, spread, source, bounds) + left_out
                + self._sweep(values),
                "setup": setup, "verdict": decided, "gap": gap, "spread": spread}


    def _incomplete(self, rec, values, members, partial, partial_names) -> dict | None:
        """The row of a record that cannot decide yet (a clean training error measured on part
        of the data, or variants still to train), or None."""
        if any(v not in values for v, _ in partial):  # nothing else counted: to re-run
            return {"ours": f"not counted: the clean training error of "
                            f"{partial_names} in {rec.name} "
                            "was measured on its first 10,000 training images, two classes of "
                            "the class-sorted JPEG copy",
                    "setup": f"{rec.setup}; `results/{rec.name}`; to re-run: "
                             f"{self.plan.removeprefix('not yet run: ')}",
                    "verdict": verdict.NOT_MEASURED}
        missing = [v for v in members if v not in values]
        if missing:  # a record still being made, a variant at a time: say what it lacks
            todo = f"; still to run: {self.plan.removeprefix('not yet run: ')}" if self.plan else ""
            return {"ours": f"not yet trained in {rec.name}: {', '.join(missing)}",
                    "setup": f"{rec.setup}; `results/{rec.name}`{todo}",
                    "verdict": verdict.NOT_MEASURED}
        return None

    def _describe(self, kb, b, kw, w, gap, spread, source, bounds=()) -> str:
        what, unit = _UNITS[self.metric]

        def value(key, vs):
            s = verdict.spread(vs)
            at_least = "≥ " if key in bounds else ""  # a seed never reached the threshold
            return (f"{at_least}{verdict.mean(vs):.2f}{unit}"
                    + (f" ± {s:.2f}" if s is not None else "")
                    + f" ({len(vs)} seed{'s' * (len(vs) > 1)})")

        spread_text = "no spread (one seed)" if spread is None else f"spread {spread:.2f}{source}"
        note = "; ≥: not reached within the run (counted as its epochs + 1)" if bounds else ""
        paper = f" (the paper's cost {self.cost:g}{unit})" if self.cost is not None else ""
        return (f"{what}: {kb} {value(kb, b)} vs {kw} {value(kw, w)}; gap {gap:+.2f}{unit}"
                f"{paper}, {spread_text}{note}")

    def _sweep(self, values: dict) -> str:
        """The curve's points in order (mean over seeds), those recorded so far."""
        unit = _UNITS[self.metric][1]
        points = [f"{k} {verdict.mean(values[k]):.2f}{unit}" for k in self.curve if k in values]
        return f"; the whole sweep: {', '.join(points)}" if points else ""


def load_either(results, record: str, fallback: str, metric: str, variants) -> Record | None:
    """The record `record`; or `fallback` where that exists and `record` lacks one of
    `variants` in `metric` (a GPU record not made yet, or only in part)."""
    rec = load_record(results, record)
    if rec is not None and all(v in rec.values[metric] for v in variants):
        return rec
    other = load_record(results, fallback) if fallback else None
    return other if other is not None else rec


def records(evidence) -> tuple[str, ...]:
    """The records a claim's evidence may rest on: none for a computed claim."""
    return tuple(r for r in (getattr(evidence, "record", ""), getattr(evidence, "fallback", ""))
                 if r)


def _members(group) -> list[str]:
    return list(group) if isinstance(group, tuple) else [group]


def _best(values: dict, group, tie: dict | None = None) -> tuple[str, list]:
    """The member of `group` with the lowest mean (of those equal, the lowest mean in `tie`),
    and its values."""
    tie = tie or {}
    key = min(_members(group), key=lambda k: (verdict.mean(values[k]),
                                              verdict.mean(tie[k]) if k in tie else 0.0))
    return key, values[key]


def _spread(rec: Record, metric: str, variants) -> tuple[float | None, str]:
    """The larger seed spread of the two variants; where one of them has a single seed (its
    spread unknown: the other's may be tiny by chance), the largest of the record's variants
    that have two (said so)."""
    values = rec.values[metric]
    own = [s for s in (verdict.spread(values[v]) for v in variants) if s is not None]
    if len(own) == len(variants):
        return max(own), ""
    others = {v: verdict.spread(vs) for v, vs in values.items() if verdict.spread(vs) is not None}
    if not others:
        return None, ""
    worst = max(others, key=others.get)
    return others[worst], f" (of {', '.join(sorted(others))})"


@dataclasses.dataclass(frozen=True)
class Reach:
    record: str
    metric: str
    variant: str
    paper: float  # the paper's value of `metric`
    plan: str
    fallback: str = ""  # as Compare's
    # the paper's own seed-to-seed spread, and where it is printed: the distance of a record of
    # one seed is judged by it (said so), where the record has no spread of its own
    paper_spread: tuple[float, str] | None = None

    def evaluate(self, results) -> dict:
        rec = load_either(results, self.record, self.fallback, self.metric, [self.variant])
        values = rec.values[self.metric].get(self.variant) if rec is not None else None
        if not values:
            return {"ours": "-", "setup": self.plan, "verdict": verdict.NOT_MEASURED}
        what, unit = _UNITS[self.metric]
        s, m = verdict.spread(values), verdict.mean(values)
        spread_text = f" ± {s:.2f}" if s is not None else ""
        ours = (f"{what}: {self.variant} {m:.2f}{unit}{spread_text} ({len(values)} seed"
                f"{'s' * (len(values) > 1)}); {m - self.paper:+.2f}{unit} from the paper's "
                f"{self.paper:g}{unit}")
        if s is None and self.paper_spread is not None:
            s, source = self.paper_spread
            ours += (f"; judged by the paper's spread, ± {s:g}{unit} ({source}), for want of "
                     "a second seed")
        return {"ours": ours, "setup": f"{rec.setup}; `results/{rec.name}`",
                "verdict": verdict.reach(m, self.paper, s)}


@dataclasses.dataclass(frozen=True)
class Count:
    compute: Callable[[], tuple[str, bool]]  # -> (what we counted, whether the claim holds)
    setup: str = "computed from the built nets"

    def evaluate(self, results) -> dict:
        ours, holds = self.compute()
        return {"ours": ours, "setup": self.setup,
                "verdict": verdict.HOLDS if holds else verdict.DIFFERS}


@dataclasses.dataclass(frozen=True)
class Unmeasurable:
    reason: str

    def evaluate(self, results) -> dict:
        return {"ours": "-", "setup": self.reason, "verdict": verdict.NOT_MEASURABLE}


def _next_seed(rec, variants) -> str:
    """How to repeat the compared `variants` with the lowest seed each lacks (a seed left out
    in the middle is filled first), recorded beside `rec` (evidence reads `<record>-seed<N>`
    folders as its repeats)."""
    by_seed = {}
    for variant in variants:
        ran = set(rec.seeds_of.get(variant, ()))
        by_seed.setdefault(next(n for n in range(len(ran) + 1) if n not in ran), []).append(variant)
    return "; ".join(f"`--seed {n} --variants {' '.join(vs)} --out runs/{rec.name}-seed{n}`, "
                     f"then `cnn-keras record runs/{rec.name}-seed{n} results/{rec.name}-seed{n}`"
                     for n, vs in sorted(by_seed.items()))
