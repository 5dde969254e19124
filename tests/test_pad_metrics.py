"""ISO/IEC 30107-3 metrics against hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import pad_metrics as pad

BONA_FIDE = [0.9, 0.8, 0.7, 0.4]  # one live sample scores low
ATTACKS = {"print": [0.1, 0.2, 0.6, 0.3], "replay": [0.05, 0.75]}


def test_apcer_bpcer_by_hand():
    assert pad.apcer(ATTACKS["print"], 0.5) == pytest.approx(1 / 4)  # 0.6 accepted
    assert pad.apcer(ATTACKS["replay"], 0.5) == pytest.approx(1 / 2)  # 0.75 accepted
    assert pad.bpcer(BONA_FIDE, 0.5) == pytest.approx(1 / 4)  # 0.4 rejected
    assert pad.acer(BONA_FIDE, ATTACKS, 0.5) == pytest.approx((0.5 + 0.25) / 2)  # uses the worst type


def test_threshold_and_bpcer_at_apcer_by_hand():
    t = pad.threshold_at_apcer(ATTACKS, 0.0)  # no attack may pass: just above 0.75
    assert 0.75 < t < 0.7500001
    b, t0 = pad.bpcer_at_apcer(BONA_FIDE, ATTACKS, 0.0)
    assert b == pytest.approx(2 / 4) and t0 == t  # 0.7 and 0.4 rejected
    # APCER 50 %: two prints of four may pass (threshold above 0.2), one replay of two (above 0.05)
    b50, t50 = pad.bpcer_at_apcer(BONA_FIDE, ATTACKS, 0.5)
    assert 0.2 < t50 < 0.2000001 and b50 == 0


def test_det_curve_shapes():
    t, ap, bp = pad.det_curve(BONA_FIDE, ATTACKS)
    assert len(t) == len(ap) == len(bp)
    assert ap[0] == 1 and bp[0] == 0 and ap[-1] == 0 and bp[-1] == 1
    assert np.all(np.diff(ap) <= 0) and np.all(np.diff(bp) >= 0)


def test_report_has_every_figure():
    r = pad.report(BONA_FIDE, ATTACKS, 0.5)
    assert r["apcer"] == {"print": 0.25, "replay": 0.5} and r["apcer_max"] == 0.5
    assert r["bpcer"] == 0.25 and r["acer"] == pytest.approx(0.375)
    assert {"bpcer_at_apcer_1pct", "bpcer_at_apcer_5pct"} <= set(r)
    assert r["attacks"] == {"print": 4, "replay": 2} and r["bona_fide"] == 4
