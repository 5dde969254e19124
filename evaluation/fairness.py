"""Fairness by group (seed clause 7.3d): fairlearn ``MetricFrame`` over the group labels a dataset carries,
bootstrap confidence intervals, and the pair-based error rates of face matching that fairlearn does not
compute on its own. Differences and ratios between groups are checked against configurable limits.

This is the foundation of issue 7 (model risk); the family-specific reports build on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


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
