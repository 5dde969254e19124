"""Plots of the risk reports: fairness with intervals, feature importance, heat maps (PNG, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fairness(table: dict, metric: str, path: Path, *, title: str, limit: float | None = None) -> Path:
    """Horizontal bars of ``metric`` per group with 95 % bootstrap intervals (and the group size)."""
    plt = _plt()
    groups = [g for g in table if metric in table[g] and np.isfinite(table[g][metric]["value"])]
    vals = np.array([table[g][metric]["value"] for g in groups])
    lo = np.array([table[g][metric]["low"] for g in groups], float)
    hi = np.array([table[g][metric]["high"] for g in groups], float)
    err = np.vstack([np.nan_to_num(vals - lo), np.nan_to_num(hi - vals)]).clip(min=0)
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(groups) + 1.4))
    ax.barh([f"{g} (n={table[g][metric]['n']})" for g in groups], vals, xerr=err, color="#4c72b0", capsize=3)
    if limit is not None:
        ax.axvline(vals.min() + limit if len(vals) else limit, c="#c44e52", ls="--", lw=1,
                   label=f"lowest group + allowed gap {limit:g}")
        ax.legend(fontsize=7, loc="lower right")
    ax.set(xlabel=metric, title=title)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def importance(values: dict[str, float], path: Path, *, title: str, top: int = 15) -> Path:
    """Mean |SHAP| per feature, largest at the top."""
    plt = _plt()
    items = list(values.items())[:top][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(items) + 1.2))
    ax.barh([k for k, _ in items], [v for _, v in items], color="#55a868")
    ax.set(xlabel="mean |SHAP value|", title=title)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def heat_maps(crops: list[np.ndarray], maps: np.ndarray, labels: list[str], path: Path, *, title: str) -> Path:
    """Each crop with its SHAP heat map below it (red: towards live, blue: towards attack), smoothed with a
    Gaussian of 2 px so regions rather than single pixels show."""
    import cv2

    plt = _plt()
    n = len(crops)
    maps = np.stack([cv2.GaussianBlur(m.astype(np.float32), (0, 0), 2.0) for m in maps])  # pixel SHAP is speckled
    fig, axes = plt.subplots(2, n, figsize=(1.9 * n, 4.2), squeeze=False)
    lim = float(np.abs(maps).max()) or 1.0
    for i, (crop, m, label) in enumerate(zip(crops, maps, labels, strict=True)):
        axes[0, i].imshow(cv2.resize(crop, m.shape[::-1]))
        axes[0, i].set_title(label, fontsize=8)
        axes[1, i].imshow(m, cmap="bwr", vmin=-lim, vmax=lim)
        for ax in axes[:, i]:
            ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
