"""Occlusion sensitivity: cover one cell of a grid at a time and report how much the score drops.

Cheap enough for every request (grid x grid forward passes), so the liveness CNN's API ``explanation`` uses
it; the report's heat maps use GradientExplainer (explain/cnn.py) instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def occlusion(score: Callable[[list[np.ndarray]], np.ndarray], image: np.ndarray, *, grid: int = 4,
              fill: int = 128) -> tuple[float, list[str], np.ndarray]:
    """(score of the image, cell names ``region_r<row>c<col>``, score drop per cell)."""
    base = float(score([image])[0])
    h, w = image.shape[:2]
    covered, names = [], []
    for r in range(grid):
        for c in range(grid):
            img = image.copy()
            img[r * h // grid:(r + 1) * h // grid, c * w // grid:(c + 1) * w // grid] = fill
            covered.append(img)
            names.append(f"region_r{r}c{c}")
    return base, names, base - np.asarray(score(covered))
