"""The final verification decision over its sub-scores, and its SHAP explanation.

A remote account opening passes when the live selfie is good enough (face quality 0-100), alive (passive
liveness probability) and the same person as the ID photo (face-match similarity), each at its deployed
threshold. The decision is a hard AND; for explanation it is softened into a product of logistic margins
so every sub-score gets a share of the outcome (KernelExplainer; the shares add up to the output minus
the average output over the reference cases).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SUB_SCORES = ("quality", "liveness", "match")


@dataclass(frozen=True)
class VerificationDecision:
    """Thresholds per sub-score; ``scales`` set how sharply each margin turns into pass probability."""

    thresholds: dict[str, float]
    scales: dict[str, float] = field(default_factory=lambda: {"quality": 5.0, "liveness": 0.05, "match": 0.03})

    def passes(self, scores: dict[str, float]) -> tuple[bool, list[str]]:
        """The hard decision and one reason per sub-score."""
        reasons, ok = [], True
        for name in SUB_SCORES:
            v, t = scores[name], self.thresholds[name]
            ok &= v >= t
            reasons.append(f"{name} {v:.3f} {'≥' if v >= t else '<'} {t:.3f}")
        return bool(ok), reasons

    def soft(self, x: np.ndarray) -> np.ndarray:
        """Pass probability of each row (columns in SUB_SCORES order): product of logistic margins."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        out = np.ones(len(x))
        for j, name in enumerate(SUB_SCORES):
            out *= 1.0 / (1.0 + np.exp(-(x[:, j] - self.thresholds[name]) / self.scales[name]))
        return out


def explain(decision: VerificationDecision, scores: dict[str, float], background: np.ndarray,
            *, nsamples: int | str = "auto") -> dict:
    """SHAP shares of each sub-score in one case's pass probability, with the hard decision and reasons."""
    from explain.kernel import KernelExplanations

    x = np.array([[scores[n] for n in SUB_SCORES]], dtype=float)
    att = KernelExplanations(decision.soft, background, SUB_SCORES).explain(x, nsamples=nsamples)
    passed, reasons = decision.passes(scores)
    return {"passed": passed, "reasons": reasons, "pass_probability": round(float(decision.soft(x)[0]), 4),
            "base": round(att.base, 4),
            "shap": {n: round(float(v), 4) for n, v in zip(SUB_SCORES, att.values[0], strict=True)}}
