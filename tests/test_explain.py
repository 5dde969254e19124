"""SHAP explanations: additivity (the contributions add up to the model output) and sensible signs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

from explain.decision import SUB_SCORES, VerificationDecision, explain
from explain.kernel import KernelExplanations
from explain.tree import TreeExplanations


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    y = (x[:, 0] + 0.5 * x[:, 1] ** 2 - x[:, 3] > 0.3).astype(int)
    return x, y


def test_tree_shap_adds_up_to_the_boosting_log_odds(data):
    x, y = data
    clf = GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0).fit(x, y)
    att = TreeExplanations(clf, [f"f{i}" for i in range(5)]).explain(x[:25])
    np.testing.assert_allclose(att.base + att.values.sum(axis=1), clf.decision_function(x[:25]), atol=1e-6)
    assert list(att.importance())[0] in ("f0", "f3")  # the features the label depends on most
    assert att.importance()["f4"] < att.importance()["f0"]  # f4 is noise
    name, value, shap_value = att.top(0, 1)[0]
    assert value == x[0, int(name[1])] and shap_value == att.values[0, int(name[1])]


def test_tree_shap_adds_up_to_forest_probability(data):
    x, y = data
    forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(x, y)
    att = TreeExplanations(forest, [f"f{i}" for i in range(5)]).explain(x[:10])
    np.testing.assert_allclose(att.base + att.values.sum(axis=1), forest.predict_proba(x[:10])[:, 1], atol=1e-6)


def test_kernel_shap_adds_up_and_blames_the_failing_sub_score():
    decision = VerificationDecision({"quality": 60.0, "liveness": 0.5, "match": 0.6})
    rng = np.random.default_rng(1)
    background = np.column_stack([rng.uniform(50, 95, 60), rng.uniform(0.3, 1, 60), rng.uniform(0.4, 0.9, 60)])
    x = np.array([[85.0, 0.95, 0.45]])  # good selfie, alive, but not the same person
    att = KernelExplanations(decision.soft, background, SUB_SCORES).explain(x, nsamples=200)
    np.testing.assert_allclose(att.base + att.values.sum(), decision.soft(x)[0], atol=1e-6)
    assert att.values[0].argmin() == SUB_SCORES.index("match") and att.values[0, 2] < 0

    out = explain(decision, {"quality": 85.0, "liveness": 0.95, "match": 0.45}, background, nsamples=200)
    assert out["passed"] is False and out["reasons"][2] == "match 0.450 < 0.600"
    assert abs(out["base"] + sum(out["shap"].values()) - out["pass_probability"]) < 2e-3  # rounding only
    ok = explain(decision, {"quality": 85.0, "liveness": 0.95, "match": 0.8}, background, nsamples=200)
    assert ok["passed"] is True and all(v > 0 for v in ok["shap"].values())
