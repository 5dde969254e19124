"""Fairness numbers against hand-computed examples, and a deliberately biased model the limits catch."""

from __future__ import annotations

import math

import numpy as np

from evaluation.fairness import Limit, bootstrap_ci, by_group_with_ci, check_limits, pair_error_rates


def _error_rate(y_true, y_pred):
    return float(np.mean(np.asarray(y_true) != np.asarray(y_pred)))


def test_metric_frame_by_group_matches_hand_computation():
    y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    y_pred = [1, 0, 0, 0, 1, 1, 1, 1]
    groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    out = by_group_with_ci(y_true, y_pred, groups, {"error": _error_rate}, n_boot=200)
    assert out["a"]["error"]["value"] == 0.25 and out["b"]["error"]["value"] == 0.5  # 1/4 and 2/4
    assert out["a"]["error"]["n"] == 4
    for g in ("a", "b"):
        e = out[g]["error"]
        assert 0 <= e["low"] <= e["value"] <= e["high"] <= 1


def test_bootstrap_interval_narrows_with_more_data():
    rng = np.random.default_rng(1)
    small = rng.random(40) < 0.2
    large = rng.random(4000) < 0.2
    lo_s, hi_s = bootstrap_ci(small, np.zeros(40, bool), _error_rate, n_boot=300)
    lo_l, hi_l = bootstrap_ci(large, np.zeros(4000, bool), _error_rate, n_boot=300)
    assert hi_l - lo_l < (hi_s - lo_s) / 3
    assert lo_l < 0.2 < hi_l


def test_pair_error_rates_by_group():
    # group x: impostors 0.95 (false match), 0.5; genuine 0.99, 0.80 (false non-match) -> FMR 1/2, FNMR 1/2
    # group y: impostors 0.1, 0.2, 0.3, 0.4; genuine 0.97, 0.98 -> FMR 0, FNMR 0; one cross-group impostor
    scores = [0.95, 0.5, 0.99, 0.80, 0.1, 0.2, 0.3, 0.4, 0.97, 0.98, 0.93]
    genuine = [False, False, True, True, False, False, False, False, True, True, False]
    a = ["x", "x", "x", "x", "y", "y", "y", "y", "y", "y", "x"]
    b = ["x", "x", "x", "x", "y", "y", "y", "y", "y", "y", "y"]
    out = pair_error_rates(scores, genuine, a, b, threshold=0.92)
    assert out["x"] == {"fmr": 0.5, "fnmr": 0.5, "impostor_pairs": 2, "genuine_pairs": 2}
    assert out["y"] == {"fmr": 0.0, "fnmr": 0.0, "impostor_pairs": 4, "genuine_pairs": 2}
    assert out["cross-group"]["fmr"] == 1.0 and math.isnan(out["cross-group"]["fnmr"])


def test_limits_refuse_a_deliberately_biased_model():
    rng = np.random.default_rng(0)
    groups = np.array(["a"] * 500 + ["b"] * 500)
    y_true = rng.random(1000) < 0.5
    fair = y_true ^ (rng.random(1000) < 0.05)
    biased = y_true ^ (rng.random(1000) < np.where(groups == "a", 0.02, 0.25))  # group b gets 25 % errors
    limits = [Limit("error", max_difference=0.05, min_ratio=0.5)]
    fair_groups = {g: {"error": v["error"]["value"]} for g, v in
                   by_group_with_ci(y_true, fair, groups, {"error": _error_rate}, n_boot=50).items()}
    biased_groups = {g: {"error": v["error"]["value"]} for g, v in
                     by_group_with_ci(y_true, biased, groups, {"error": _error_rate}, n_boot=50).items()}
    assert check_limits(fair_groups, limits) == []
    breaches = check_limits(biased_groups, limits)
    assert len(breaches) == 2 and "difference" in breaches[0] and "ratio" in breaches[1]
    assert check_limits({"a": {"fmr": 0.01}, "cross-group": {"fmr": 0.9}}, [Limit("fmr", 0.05)]) == []
