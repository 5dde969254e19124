"""Verification error rates (ISO/IEC 19795-1 vocabulary) from genuine and impostor comparison scores.

Scores are similarities: higher means "same person"; a comparison is a match when score >= threshold.
FMR(t) = share of impostor scores >= t; FNMR(t) = share of genuine scores < t; TAR = 1 - FNMR.
"""

from __future__ import annotations

import math

import numpy as np


def as_scores(x) -> np.ndarray:
    """Scores as a flat float64 array; an empty input is an error."""
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError("need at least one score")
    return a


def fmr(impostor, threshold: float) -> float:
    return float(np.mean(as_scores(impostor) >= threshold))


def fnmr(genuine, threshold: float) -> float:
    return float(np.mean(as_scores(genuine) < threshold))


def error_curve(genuine, impostor) -> dict[str, np.ndarray]:
    """FMR and FNMR at every distinct score (the thresholds where either can change), ascending."""
    g, i = np.sort(as_scores(genuine)), np.sort(as_scores(impostor))
    thresholds = np.unique(np.concatenate([g, i, [np.inf]]))
    fmr_ = 1.0 - np.searchsorted(i, thresholds, side="left") / i.size
    fnmr_ = np.searchsorted(g, thresholds, side="left") / g.size
    return {"threshold": thresholds, "fmr": fmr_, "fnmr": fnmr_, "tar": 1.0 - fnmr_}


def eer(genuine, impostor) -> tuple[float, float]:
    """Equal error rate and the threshold where FMR and FNMR cross (linear interpolation between points)."""
    c = error_curve(genuine, impostor)
    diff = c["fmr"] - c["fnmr"]  # decreasing in threshold
    k = int(np.argmax(diff <= 0))
    if k == 0:
        return float(c["fmr"][0]), float(c["threshold"][0])
    d0, d1 = diff[k - 1], diff[k]
    w = d0 / (d0 - d1) if d0 != d1 else 0.5
    rate = (1 - w) * c["fmr"][k - 1] + w * c["fmr"][k]
    t1 = c["threshold"][k] if np.isfinite(c["threshold"][k]) else c["threshold"][k - 1]
    return float(rate), float((1 - w) * c["threshold"][k - 1] + w * t1)


def threshold_at_fmr(impostor, target: float) -> float:
    """Lowest threshold whose FMR on these impostor scores is <= ``target``.

    With n impostor scores, at most floor(target * n) may reach the threshold, so it is placed just
    above the (floor(target * n) + 1)-th highest impostor score.
    """
    i = np.sort(as_scores(impostor))[::-1]
    allowed = int(math.floor(target * i.size + 1e-9))
    if allowed >= i.size:
        return float(i[-1])
    return float(np.nextafter(i[allowed], np.inf))


def min_impostors_for(target: float, rule: float = 3.0) -> int:
    """Impostor comparisons needed before an FMR of ``target`` can be claimed (rule of three: with zero
    errors in 3/target trials the 95% upper bound of the error rate is target)."""
    return int(math.ceil(rule / target))


def tar_at_fmr(genuine, impostor, target: float) -> float:
    return 1.0 - fnmr(genuine, threshold_at_fmr(impostor, target))


def det_points(genuine, impostor) -> tuple[np.ndarray, np.ndarray]:
    """(FMR, FNMR) pairs for a DET plot, dropping points where both are 0 or 1."""
    c = error_curve(genuine, impostor)
    keep = (c["fmr"] > 0) | (c["fnmr"] > 0)
    return c["fmr"][keep], c["fnmr"][keep]



from models.text import cer, edit_distance, wer  # noqa: E402,F401  (re-exported: evaluation's text metrics)
