"""Model-agnostic SHAP (KernelExplainer) for functions of a few named sub-scores or measures.

Used for the final verification decision (quality, liveness, match) and for rule-based scores such as
face quality. The background is sub-sampled (k-means) so one explanation takes well under a second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from explain.tree import Attribution


class KernelExplanations:
    """``fn`` maps an (n, features) array to n outputs; ``background`` holds typical rows."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], background: np.ndarray, names: Sequence[str], *,
                 max_background: int = 20) -> None:
        import shap

        bg = np.atleast_2d(np.asarray(background, dtype=float))
        if len(bg) > max_background:
            bg = shap.kmeans(bg, max_background)  # deterministic: sklearn KMeans with random_state 0
        self.fn = fn
        self.names = tuple(names)
        self.explainer = shap.KernelExplainer(lambda x: np.asarray(fn(np.asarray(x, dtype=float)), float), bg)

    def explain(self, x: np.ndarray, *, nsamples: int | str = "auto") -> Attribution:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        values = np.asarray(self.explainer.shap_values(x, nsamples=nsamples, silent=True), dtype=float)
        if values.ndim == 3:
            values = values[:, :, -1]
        base = float(np.atleast_1d(self.explainer.expected_value)[-1])
        return Attribution(values=values, base=base, names=self.names, data=x)

