"""Hand-crafted texture features of a face crop for passive liveness, each named so SHAP can say
which one drove a decision.

- colour LBP: rotation-invariant uniform LBP (8 neighbours, radius 1; 10 bins) of each HSV and YCbCr
  channel — print and screen re-capture change micro-texture and chroma differently from skin;
- frequency: share of spectral energy in low/mid/high bands and the peakiness of the high band
  (moiré and halftone dots make sharp peaks);
- specular: share of bright, unsaturated pixels (glare on glossy paper or glass);
- sharpness: Laplacian energy relative to contrast;
- colour diversity: hue entropy, saturation mean/spread, share of distinct quantised colours.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.face.measures import sharpness

SIZE_PX = 128
_CHANNELS = ("h", "s", "v", "y", "cr", "cb")
_BANDS = ((0.05, 0.2), (0.2, 0.45), (0.45, 1.0))

FEATURE_NAMES: list[str] = (
    [f"lbp_{c}_{b}" for c in _CHANNELS for b in range(10)]
    + ["freq_low", "freq_mid", "freq_high", "freq_high_peak"]
    + ["specular_fraction", "specular_top1pct_v"]
    + ["sharpness"]
    + ["hue_entropy", "saturation_mean", "saturation_std", "distinct_colours"]
)


def lbp_riu2(channel: np.ndarray) -> np.ndarray:
    """Normalised 10-bin histogram of rotation-invariant uniform LBP codes (P=8, R=1)."""
    c = channel[1:-1, 1:-1]
    h, w = channel.shape
    offsets = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]  # clockwise ring
    bits = np.stack([channel[dy:dy + h - 2, dx:dx + w - 2] >= c for dy, dx in offsets])
    ones = bits.sum(axis=0)
    transitions = (bits != np.roll(bits, 1, axis=0)).sum(axis=0)
    codes = np.where(transitions <= 2, ones, 9)
    return np.bincount(codes.ravel(), minlength=10)[:10] / codes.size


def _frequency(gray: np.ndarray) -> list[float]:
    f = np.abs(np.fft.fftshift(np.fft.fft2(gray - gray.mean())))
    h, w = f.shape
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2))
    total = f[(r > _BANDS[0][0]) & (r <= 1.0)].sum() + 1e-9
    out = [float(f[(r > lo) & (r <= hi)].sum() / total) for lo, hi in _BANDS]
    high = f[(r > _BANDS[2][0]) & (r <= 1.0)]
    out.append(float(np.log1p(high.max() / (np.median(high) + 1e-9))))
    return out


def extract(face_rgb: np.ndarray) -> np.ndarray:
    """Feature vector (len(FEATURE_NAMES),) of a face crop (RGB uint8, any size; resized to 128 px)."""
    img = cv2.resize(face_rgb, (SIZE_PX, SIZE_PX), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.float32)
    ycc = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    feats: list[float] = []
    for channel in (hsv[..., 0], hsv[..., 1], hsv[..., 2], ycc[..., 0], ycc[..., 1], ycc[..., 2]):
        feats.extend(lbp_riu2(channel))
    gray = ycc[..., 0]
    feats.extend(_frequency(gray))
    v, s = hsv[..., 2] / 255.0, hsv[..., 1] / 255.0
    feats.append(float(((v > 0.9) & (s < 0.2)).mean()))
    feats.append(float(np.percentile(v, 99)))
    feats.append(sharpness(gray) / 100.0)
    hue_hist = np.bincount((hsv[..., 0] / 10).astype(int).ravel(), minlength=18)[:18] / gray.size
    nz = hue_hist[hue_hist > 0]
    feats.append(float(-(nz * np.log2(nz)).sum()))
    feats.extend([float(s.mean()), float(s.std())])
    quant = (img // 16).reshape(-1, 3).astype(np.int32)
    feats.append(len(np.unique(quant[:, 0] * 256 + quant[:, 1] * 16 + quant[:, 2])) / 4096.0)
    return np.asarray(feats, dtype=np.float32)
