"""Verification metrics against small hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import metrics

GENUINE = [0.9, 0.8, 0.7, 0.6]
IMPOSTOR = [0.1, 0.2, 0.3, 0.65, 0.5]


def test_fmr_fnmr_by_hand():
    assert metrics.fmr(IMPOSTOR, 0.5) == pytest.approx(2 / 5)  # 0.65 and 0.5 reach 0.5
    assert metrics.fnmr(GENUINE, 0.65) == pytest.approx(1 / 4)  # only 0.6 is below
    assert metrics.fmr(IMPOSTOR, 0.66) == 0 and metrics.fnmr(GENUINE, 0.6) == 0


def test_error_curve_is_monotonic_and_ends_at_zero_fmr():
    c = metrics.error_curve(GENUINE, IMPOSTOR)
    assert np.all(np.diff(c["fmr"]) <= 0) and np.all(np.diff(c["fnmr"]) >= 0)
    assert c["fmr"][-1] == 0 and c["fnmr"][-1] == 1 and c["fmr"][0] == 1


def test_eer_by_hand():
    # at t=0.6: FMR 1/5 (0.65), FNMR 0; at t=0.65: FMR 1/5, FNMR 1/4; at t=0.7: FMR 0, FNMR 1/4
    rate, t = metrics.eer(GENUINE, IMPOSTOR)
    assert 0.0 <= rate <= 0.25 and 0.6 <= t <= 0.7
    separable_rate, _ = metrics.eer([0.9, 0.8], [0.1, 0.2])
    assert separable_rate == 0


def test_threshold_at_fmr_by_hand():
    impostor = np.arange(100) / 100.0  # 0.00 … 0.99
    t = metrics.threshold_at_fmr(impostor, 0.05)  # 5 of 100 may reach it: 0.95..0.99
    assert 0.94 < t <= 0.95 + 1e-12
    assert metrics.fmr(impostor, t) == pytest.approx(0.05)
    t0 = metrics.threshold_at_fmr(impostor, 0.001)  # none may reach it
    assert t0 > 0.99 and metrics.fmr(impostor, t0) == 0


def test_tar_at_fmr_and_support():
    assert metrics.tar_at_fmr(GENUINE, IMPOSTOR, 0.2) == pytest.approx(1.0)  # threshold just above 0.5
    assert metrics.tar_at_fmr(GENUINE, IMPOSTOR, 0.01) == pytest.approx(3 / 4)  # threshold just above 0.65
    assert metrics.min_impostors_for(1e-3) == 3000 and metrics.min_impostors_for(1e-4) == 30000


def test_det_points_drop_degenerate_ends():
    fmr, fnmr = metrics.det_points(GENUINE, IMPOSTOR)
    assert len(fmr) == len(fnmr) and not np.any((fmr == 0) & (fnmr == 0))
