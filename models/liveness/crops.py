"""The face crop every passive liveness model sees, the same at training and inference."""

from __future__ import annotations

import cv2
import numpy as np

CROP_SCALE = 1.6
CROP_PX = 160


def face_crop(image: np.ndarray, box, size: int = CROP_PX, scale: float = CROP_SCALE) -> np.ndarray:
    """Square crop ``scale`` x the larger side of the face box around its centre, reflect-padded at the
    image border, resized to ``size`` px."""
    x1, y1, x2, y2 = box
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, scale * max(x2 - x1, y2 - y1) / 2
    pad = int(half) + 2
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    xa, ya = int(cx - half) + pad, int(cy - half) + pad
    crop = padded[ya:ya + max(2, int(2 * half)), xa:xa + max(2, int(2 * half))]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
