"""The corpus scoring rule (corpus README, "Scoring"), for the benchmark and the tests.

A prediction matches a label when metric, basis and unit agree, the value is within
0.5% (USD), 0.05 points (%) or half a cent (USD/share), and the period agrees
whenever the label has one. A prediction that matches no label but restates a
labeled figure at another rounding (same metric, basis and period, value within 5%)
is not counted wrong: it is left out of precision's denominator ("excused").

Precision = matched / (predictions − excused). Recall R leaves out labels marked
`comparative` or `table`; R_all counts every label. Matching is many-to-one: every
prediction that matches some label counts as matched, and a label is found when any
prediction matches it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

_TOL = {"%": 0.05, "USD/share": 0.005}


def _value_ok(unit: str, pred: float, label: float) -> bool:
    if unit == "USD":
        return abs(pred - label) <= 0.005 * abs(label)
    return abs(pred - label) <= _TOL.get(unit, 0.0) + 1e-9


def matches(pred: dict, label: dict) -> bool:
    if (pred["metric"], pred["basis"], pred["unit"]) != (label["metric"], label["basis"], label["unit"]):
        return False
    if not _value_ok(label["unit"], float(pred["value"]), float(label["value"])):
        return False
    return label.get("period") is None or pred.get("period") == label["period"]


def restates(pred: dict, label: dict) -> bool:
    if (pred["metric"], pred["basis"], pred.get("period")) != (label["metric"], label["basis"], label.get("period")):
        return False
    lv, pv = float(label["value"]), float(pred["value"])
    return abs(pv - lv) <= 0.05 * abs(lv)


@dataclass
class Tally:
    predicted: int = 0
    matched: int = 0
    excused: int = 0
    labels: int = 0
    found: int = 0
    labels_core: int = 0  # neither comparative nor table
    found_core: int = 0

    def add(self, other: Tally) -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))

    @property
    def precision(self) -> float:
        d = self.predicted - self.excused
        return self.matched / d if d else 1.0

    @property
    def recall(self) -> float:
        return self.found_core / self.labels_core if self.labels_core else 1.0

    @property
    def recall_all(self) -> float:
        return self.found / self.labels if self.labels else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall_all
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class DocScore:
    name: str
    total: Tally = field(default_factory=Tally)
    by_metric: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    false_positives: list[dict] = field(default_factory=list)
    misses: list[dict] = field(default_factory=list)


def score_doc(name: str, preds: list[dict], labels: list[dict]) -> DocScore:
    ds = DocScore(name)
    for p in preds:
        t = ds.by_metric[p["metric"]]
        t.predicted += 1
        if any(matches(p, lab) for lab in labels):
            t.matched += 1
        elif any(restates(p, lab) for lab in labels):
            t.excused += 1
        else:
            ds.false_positives.append(p)
    for lab in labels:
        t = ds.by_metric[lab["metric"]]
        core = not lab.get("comparative") and not lab.get("table")
        hit = any(matches(p, lab) for p in preds)
        t.labels += 1
        t.found += hit
        t.labels_core += core
        t.found_core += core and hit
        if not hit:
            ds.misses.append(lab)
    for t in ds.by_metric.values():
        ds.total.add(t)
    return ds


def combine(docs: list[DocScore]) -> tuple[Tally, dict[str, Tally]]:
    total, by_metric = Tally(), defaultdict(Tally)
    for d in docs:
        total.add(d.total)
        for m, t in d.by_metric.items():
            by_metric[m].add(t)
    return total, dict(by_metric)
