"""Exact SHAP values of tree ensembles (TreeExplainer), in the model's raw output (log-odds for boosting)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Attribution:
    """SHAP values ``values`` (rows x features) with ``base`` (the expected raw output) and feature names;
    for each row, ``base + values.sum()`` is the model's raw output on that row."""

    values: np.ndarray
    base: float
    names: tuple[str, ...]
    data: np.ndarray

    def top(self, row: int = 0, k: int = 5) -> list[tuple[str, float, float]]:
        """(feature, feature value, SHAP value) of the ``k`` strongest contributions to ``row``."""
        order = np.argsort(-np.abs(self.values[row]))[:k]
        return [(self.names[i], float(self.data[row, i]), float(self.values[row, i])) for i in order]

    def importance(self) -> dict[str, float]:
        """Mean |SHAP| per feature over the rows, largest first (global importance)."""
        mean = np.abs(self.values).mean(axis=0)
        order = np.argsort(-mean)
        return {self.names[i]: round(float(mean[i]), 6) for i in order}


def _positive_class(values, base) -> tuple[np.ndarray, float]:
    """SHAP returns one array for binary boosting and one per class for forests; keep the positive class."""
    v, b = np.asarray(values), np.atleast_1d(np.asarray(base, dtype=float))
    if v.ndim == 3:  # (rows, features, classes)
        return v[:, :, -1], float(b[-1])
    return v, float(b[-1])


class TreeExplanations:
    """A TreeExplainer bound to one fitted tree model (built once, reused per request)."""

    def __init__(self, model, names: tuple[str, ...] | list[str]) -> None:
        import shap

        self.explainer = shap.TreeExplainer(model)
        self.names = tuple(names)

    def explain(self, x: np.ndarray) -> Attribution:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        values, base = _positive_class(self.explainer.shap_values(x), self.explainer.expected_value)
        return Attribution(values=values, base=base, names=self.names, data=x)
