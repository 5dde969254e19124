"""Landmark-driven edits of a real photo (eyes closed, head turned), to build action-liveness frame
sequences for tests, benchmarks and demos without recording anyone."""

from __future__ import annotations

import cv2
import numpy as np


def close_eyes(image: np.ndarray, landmarks68: np.ndarray) -> np.ndarray:
    """Close both eyes: rows between the lids are remapped so the skin above the upper lid and below the
    lower lid meet on the eye's centre line (feathered sideways)."""
    h, w = image.shape[:2]
    map_x, map_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    xs = np.arange(w, dtype=np.float32)
    for a, b in ((36, 42), (42, 48)):
        eye = landmarks68[a:b]
        x1, x2 = eye[:, 0].min(), eye[:, 0].max()
        top, bot = min(eye[1, 1], eye[2, 1]), max(eye[4, 1], eye[5, 1])
        cy, span = (top + bot) / 2, x2 - x1
        y_lo, y_hi = cy - 0.6 * span, cy + 0.6 * span
        weight = np.clip(1 - np.abs(xs - (x1 + x2) / 2) / (0.75 * span), 0, 1)
        for yi in range(int(y_lo), int(y_hi) + 1):
            src = (y_lo + (yi - y_lo) * (top - y_lo) / (cy - y_lo)) if yi <= cy \
                else (bot + (yi - cy) * (y_hi - bot) / (y_hi - cy))
            map_y[yi] = map_y[yi] * (1 - weight) + src * weight
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def turn(image: np.ndarray, side: str, factor: float = 0.6, centre_x: float | None = None) -> np.ndarray:
    """Fake a head turn: squeeze the image horizontally on one side of ``centre_x`` (the face's centre;
    default the image's), foreshortening that side. ``side="right"``: the nose seems to point right."""
    h, w = image.shape[:2]
    half = int(centre_x) if centre_x is not None else w // 2
    if side == "right":
        part = cv2.resize(image[:, half:], (int((w - half) * factor), h))
        pad = np.repeat(part[:, -1:], w - half - part.shape[1], axis=1)
        return np.ascontiguousarray(np.concatenate([image[:, :half], part, pad], axis=1))
    part = cv2.resize(image[:, :half], (int(half * factor), h))
    pad = np.repeat(part[:, :1], half - part.shape[1], axis=1)
    return np.ascontiguousarray(np.concatenate([pad, part, image[:, half:]], axis=1))
