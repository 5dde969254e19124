"""Drift of a model in operation against its evaluation: population stability index (PSI) and the
two-sample Kolmogorov-Smirnov test on scores, and the shift of the pass rate (seed 7.3c)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PSI_LIMIT = 0.25  # the usual reading: < 0.1 stable, 0.1-0.25 moderate, > 0.25 shifted
KS_ALPHA = 0.01
PASS_RATE_SHIFT = 0.10
MIN_OBSERVATIONS = 30


def psi(reference: Sequence[float], current: Sequence[float], bins: int = 10) -> float:
    """PSI over the reference's quantile bins (empty bins floored at 1e-4)."""
    ref, cur = np.asarray(reference, float), np.asarray(current, float)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:  # a (nearly) constant reference: split at its value
        edges = np.array([ref.min() - 1e-9, ref.min() + 1e-9])
    edges[0], edges[-1] = -np.inf, np.inf
    p = np.histogram(ref, edges)[0] / len(ref)
    q = np.histogram(cur, edges)[0] / len(cur)
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    return round(float(np.sum((q - p) * np.log(q / p))), 4)


def compare(reference: dict, scores: Sequence[float | None], passed: Sequence[bool], *,
            psi_limit: float = PSI_LIMIT, ks_alpha: float = KS_ALPHA,
            pass_rate_shift: float = PASS_RATE_SHIFT, min_n: int = MIN_OBSERVATIONS) -> dict:
    """Window figures against ``reference`` (the evidence's ``monitoring_reference``) and the flags raised."""
    from scipy.stats import ks_2samp

    window = np.asarray([s for s in scores if s is not None], float)
    ref = np.asarray(reference.get("scores") or [], float)
    out: dict = {"score": reference.get("score"), "window_n": len(passed), "reference_n": len(ref),
                 "reference_pass_rate": reference.get("pass_rate"), "flags": [], "notes": []}
    if len(passed) < min_n:
        out["notes"].append(f"only {len(passed)} observations; at least {min_n} are needed to judge drift")
        return out
    rate = float(np.mean(passed))
    out["pass_rate"] = round(rate, 4)
    if reference.get("pass_rate") is not None:
        shift = rate - float(reference["pass_rate"])
        out["pass_rate_shift"] = round(shift, 4)
        if abs(shift) > pass_rate_shift:
            out["flags"].append(f"pass rate {rate:.3f} vs {reference['pass_rate']:.3f} in evaluation "
                                f"(shift {shift:+.3f}, limit ±{pass_rate_shift})")
    if len(ref) >= min_n and len(window) >= min_n:
        out["psi"] = psi(ref, window)
        ks = ks_2samp(ref, window)
        out["ks_statistic"], out["ks_pvalue"] = round(float(ks.statistic), 4), float(f"{ks.pvalue:.4g}")
        out["window_mean"], out["reference_mean"] = round(float(window.mean()), 4), round(float(ref.mean()), 4)
        if out["psi"] > psi_limit:
            out["flags"].append(f"score distribution shifted: PSI {out['psi']:.3f} > {psi_limit}")
        if ks.pvalue < ks_alpha:
            out["flags"].append(f"KS test rejects the evaluation distribution (D={ks.statistic:.3f}, "
                                f"p={ks.pvalue:.2g} < {ks_alpha})")
    else:
        out["notes"].append("no score distribution to compare (reference or window too small)")
    return out
