"""Presentation attack detection metrics, ISO/IEC 30107-3.

Scores are "liveness": higher means bona fide (a live person). A presentation is accepted as bona
fide when score >= threshold.
- APCER of one attack type (PAI species): share of its attack presentations accepted as bona fide.
- APCER_max: the worst attack type — 30107-3 reports the maximum, not the average.
- BPCER: share of bona fide presentations rejected as attacks.
- ACER = (APCER_max + BPCER) / 2 (common in competitions; 30107-3 itself prefers the pair).
- BPCER@APCER=x: the BPCER at the lowest threshold where APCER_max <= x (BPCER20 = x 5 %, BPCER100 = x 1 %).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from evaluation.metrics import as_scores as _arr


def apcer(attack_scores, threshold: float) -> float:
    return float(np.mean(_arr(attack_scores) >= threshold))


def bpcer(bona_fide_scores, threshold: float) -> float:
    return float(np.mean(_arr(bona_fide_scores) < threshold))


def apcer_by_type(attacks: Mapping[str, object], threshold: float) -> dict[str, float]:
    return {name: apcer(scores, threshold) for name, scores in attacks.items()}


def acer(bona_fide_scores, attacks: Mapping[str, object], threshold: float) -> float:
    return (max(apcer_by_type(attacks, threshold).values()) + bpcer(bona_fide_scores, threshold)) / 2.0


def threshold_at_apcer(attacks: Mapping[str, object], target: float) -> float:
    """Lowest threshold at which every attack type's APCER is <= ``target``."""
    needed = []
    for scores in attacks.values():
        s = np.sort(_arr(scores))[::-1]
        allowed = int(np.floor(target * s.size + 1e-9))
        needed.append(float(np.nextafter(s[allowed], np.inf)) if allowed < s.size else float(s[-1]))
    return max(needed)


def bpcer_at_apcer(bona_fide_scores, attacks: Mapping[str, object], target: float) -> tuple[float, float]:
    """(BPCER, threshold) at the operating point APCER_max <= ``target``."""
    t = threshold_at_apcer(attacks, target)
    return bpcer(bona_fide_scores, t), t


def det_curve(bona_fide_scores, attacks: Mapping[str, object]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(threshold, APCER_max, BPCER) at every distinct score, ascending threshold."""
    bf = np.sort(_arr(bona_fide_scores))
    types = [np.sort(_arr(s)) for s in attacks.values()]
    thresholds = np.unique(np.concatenate([bf, *types, [np.inf]]))
    ap = np.max([1.0 - np.searchsorted(s, thresholds, side="left") / s.size for s in types], axis=0)
    bp = np.searchsorted(bf, thresholds, side="left") / bf.size
    return thresholds, ap, bp


def report(bona_fide_scores, attacks: Mapping[str, object], threshold: float) -> dict:
    """All 30107-3 figures at ``threshold`` plus BPCER at APCER 1 % and 5 %."""
    per_type = apcer_by_type(attacks, threshold)
    b1, t1 = bpcer_at_apcer(bona_fide_scores, attacks, 0.01)
    b5, t5 = bpcer_at_apcer(bona_fide_scores, attacks, 0.05)
    ap_max = max(per_type.values())
    bp = bpcer(bona_fide_scores, threshold)
    return {"threshold": threshold, "apcer": per_type, "apcer_max": ap_max, "bpcer": bp, "acer": (ap_max + bp) / 2,
            "bpcer_at_apcer_1pct": b1, "threshold_at_apcer_1pct": t1,
            "bpcer_at_apcer_5pct": b5, "threshold_at_apcer_5pct": t5,
            "bona_fide": int(_arr(bona_fide_scores).size),
            "attacks": {k: int(_arr(v).size) for k, v in attacks.items()}}
