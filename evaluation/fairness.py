"""Fairness by group (seed clause 7.3d): fairlearn ``MetricFrame`` over the group labels a dataset carries,
bootstrap confidence intervals, and the pair-based error rates of face matching that fairlearn does not
compute on its own. Differences and ratios between groups are checked against configurable limits.

A *table* is ``{group: {metric: {"value", "low", "high", "n"}}}``: what the reports render and the
promotion gate reads. The demo photos carry hand labels (``evaluation/data/demo_people.csv``; the rule is in
``evaluation/data/README.md``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEMO_GROUPS = Path(__file__).parent / "data" / "demo_people.csv"
DEMO_GROUP_SOURCE = ("hand labels of the shipped demo photos (evaluation/data/demo_people.csv, rule in "
                     "evaluation/data/README.md): apparent sex, age band, capture; 9 people, all light-skinned")
DEMO_ATTRIBUTES = ("presented_sex", "age_band", "capture")


def demo_group_labels(attribute: str = "presented_sex") -> dict[str, str]:
    """``{person: group}`` for the demo photos, by one labelled attribute."""
    with open(DEMO_GROUPS, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if attribute not in rows[0]:
        raise KeyError(f"{attribute!r} is not a column of {DEMO_GROUPS.name}; have {sorted(rows[0])}")
    return {r["person"]: r[attribute] for r in rows}


def metric_frame(y_true: Sequence, y_pred: Sequence, groups: Sequence, metrics: dict[str, Callable]):
    """fairlearn ``MetricFrame`` of ``metrics`` (name -> f(y_true, y_pred)) by ``groups``."""
    from fairlearn.metrics import MetricFrame

    return MetricFrame(metrics=metrics, y_true=np.asarray(y_true), y_pred=np.asarray(y_pred),
                       sensitive_features=np.asarray(groups))


def bootstrap_ci(y_true: Sequence, y_pred: Sequence, metric: Callable, *, n_boot: int = 500, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric`` over resampled rows (NaN where a resample is degenerate)."""
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if len(yt) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(yt), len(yt))
        try:
            stats.append(float(metric(yt[idx], yp[idx])))
        except (ValueError, ZeroDivisionError):
            continue
    stats = np.asarray([s for s in stats if np.isfinite(s)])
    if not len(stats):
        return float("nan"), float("nan")
    lo, hi = np.quantile(stats, [(1 - level) / 2, 1 - (1 - level) / 2])
    return round(float(lo), 4), round(float(hi), 4)


def by_group_with_ci(y_true: Sequence, y_pred: Sequence, groups: Sequence, metrics: dict[str, Callable], *,
                     n_boot: int = 500, seed: int = 0) -> dict[str, dict[str, dict[str, float]]]:
    """``{group: {metric: {value, low, high, n}}}`` — the MetricFrame values with bootstrap intervals."""
    frame = metric_frame(y_true, y_pred, groups, metrics)
    yt, yp, g = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for group in sorted(set(g.tolist())):
        m = g == group
        out[str(group)] = {}
        for name, fn in metrics.items():
            low, high = bootstrap_ci(yt[m], yp[m], fn, n_boot=n_boot, seed=seed)
            out[str(group)][name] = {"value": round(float(frame.by_group[name][group]), 4), "low": low,
                                     "high": high, "n": int(m.sum())}
    return out


def pair_error_rates(scores: Sequence[float], genuine: Sequence[bool], group_a: Sequence[str],
                     group_b: Sequence[str], threshold: float) -> dict[str, dict[str, float]]:
    """FMR and FNMR per group for 1:1 match pairs at ``threshold`` (accept when score >= threshold).

    A pair counts for a group when both of its faces carry that group's label; impostor pairs across
    groups are reported under ``cross-group`` (they say little about either group alone).
    """
    s, gen = np.asarray(scores, float), np.asarray(genuine, bool)
    a, b = np.asarray(group_a), np.asarray(group_b)
    label = np.where(a == b, a, "cross-group")
    out = {}
    for group in sorted(set(label.tolist())):
        m = label == group
        imp, gen_m = m & ~gen, m & gen
        out[str(group)] = {
            "fmr": round(float((s[imp] >= threshold).mean()), 4) if imp.any() else float("nan"),
            "fnmr": round(float((s[gen_m] < threshold).mean()), 4) if gen_m.any() else float("nan"),
            "impostor_pairs": int(imp.sum()), "genuine_pairs": int(gen_m.sum()),
        }
    return out


def rate_table(outcomes: Sequence[bool], groups: Sequence, name: str, *, n_boot: int = 300,
               seed: int = 0) -> dict[str, dict[str, dict[str, float]]]:
    """The rate of ``True`` outcomes per group (e.g. BPCER: bona fide rejected) as a table with intervals."""
    o = np.asarray(outcomes, bool)
    return by_group_with_ci(o, o, groups, {name: lambda t, p: float(np.mean(p))}, n_boot=n_boot, seed=seed)


def pair_error_table(scores: Sequence[float], genuine: Sequence[bool], group_a: Sequence[str],
                     group_b: Sequence[str], threshold: float, *, n_boot: int = 300,
                     seed: int = 0) -> dict[str, dict[str, dict[str, float]]]:
    """:func:`pair_error_rates` as a table, with bootstrap intervals over the pairs of each group."""
    s, gen = np.asarray(scores, float), np.asarray(genuine, bool)
    a, b = np.asarray(group_a), np.asarray(group_b)
    label = np.where(a == b, a, "cross-group")
    table = {}
    for group, point in pair_error_rates(s, gen, a, b, threshold).items():
        m = label == group
        imp, gen_m = s[m & ~gen], s[m & gen]
        fmr_ci = bootstrap_ci(imp, imp, lambda t, p: float((p >= threshold).mean()), n_boot=n_boot, seed=seed)
        fnmr_ci = bootstrap_ci(gen_m, gen_m, lambda t, p: float((p < threshold).mean()), n_boot=n_boot, seed=seed)
        table[group] = {
            "fmr": {"value": point["fmr"], "low": fmr_ci[0], "high": fmr_ci[1], "n": point["impostor_pairs"]},
            "fnmr": {"value": point["fnmr"], "low": fnmr_ci[0], "high": fnmr_ci[1], "n": point["genuine_pairs"]},
        }
    return table


def values(table: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """``{group: {metric: value}}`` of a table (what :func:`check_limits` reads)."""
    return {g: {m: v["value"] for m, v in metrics.items()} for g, metrics in table.items()}


def gap(table: dict[str, dict[str, dict[str, float]]], metric: str,
        ignore: Sequence[str] = ("cross-group",)) -> dict[str, float | str] | None:
    """Best and worst group of ``metric``, their difference and ratio (smaller / larger); None below 2 groups."""
    vals = {g: m[metric]["value"] for g, m in table.items()
            if g not in ignore and metric in m and np.isfinite(m[metric]["value"])}
    if len(vals) < 2:
        return None
    lo_g = min(vals, key=vals.get)
    hi_g = max((g for g in vals if g != lo_g), key=vals.get)  # two different groups, even on a tie
    lo, hi = vals[lo_g], vals[hi_g]
    return {"metric": metric, "highest": hi_g, "lowest": lo_g, "difference": round(hi - lo, 4),
            "ratio": round(lo / hi, 4) if hi > 0 else 1.0}


@dataclass(frozen=True)
class Limit:
    metric: str
    max_difference: float | None = None
    min_ratio: float | None = None


def check_limits(per_group: dict[str, dict[str, float]], limits: Sequence[Limit],
                 ignore: Sequence[str] = ("cross-group",)) -> list[str]:
    """Breaches of the limits: between the best and worst group, the difference of a metric must stay at or
    below ``max_difference`` and the ratio (smaller / larger) at or above ``min_ratio``."""
    breaches = []
    for lim in limits:
        values = {g: v[lim.metric] for g, v in per_group.items()
                  if g not in ignore and lim.metric in v and np.isfinite(v[lim.metric])}
        if len(values) < 2:
            continue
        lo_g, hi_g = min(values, key=values.get), max(values, key=values.get)
        lo, hi = values[lo_g], values[hi_g]
        if lim.max_difference is not None and hi - lo > lim.max_difference + 1e-12:
            breaches.append(f"{lim.metric}: {hi_g} {hi:.4f} vs {lo_g} {lo:.4f}, difference {hi - lo:.4f} > "
                            f"{lim.max_difference}")
        ratio = lo / hi if hi > 0 else 1.0
        if lim.min_ratio is not None and ratio < lim.min_ratio - 1e-12:
            breaches.append(f"{lim.metric}: ratio {ratio:.4f} ({lo_g}/{hi_g}) < {lim.min_ratio}")
    return breaches
