"""Stability of smart frame selection (seed 8.4e asks for accuracy and stability across scenes).

The same clip is perturbed the way real capture and transport perturb it — JPEG re-encoding, small
brightness shifts, dropped frames, sensor noise — and we count how often the selector still picks
the same source frame (±``tolerance`` frames).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image

Frames = list[tuple[int, float, np.ndarray]]


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def reencode(frames: Frames, rng: np.random.Generator) -> Frames:
    q = int(rng.integers(40, 80))
    return [(i, t, _jpeg(f, q)) for i, t, f in frames]


def brightness(frames: Frames, rng: np.random.Generator) -> Frames:
    shift = int(rng.choice([-1, 1]) * rng.integers(8, 21))
    return [(i, t, np.clip(f.astype(np.int16) + shift, 0, 255).astype(np.uint8)) for i, t, f in frames]


def drop_frames(frames: Frames, rng: np.random.Generator) -> Frames:
    """Drop ~20% of frames at random, never the whole clip."""
    keep = rng.random(len(frames)) > 0.2
    kept = [fr for fr, k in zip(frames, keep, strict=True) if k]
    return kept or frames[:1]


def noise(frames: Frames, rng: np.random.Generator) -> Frames:
    return [(i, t, np.clip(f + rng.normal(0, 3.0, f.shape), 0, 255).astype(np.uint8)) for i, t, f in frames]


PERTURBATIONS: dict[str, Callable[[Frames, np.random.Generator], Frames]] = {
    "reencode_jpeg": reencode, "brightness_shift": brightness, "dropped_frames": drop_frames, "noise": noise,
}


def stability(select: Callable[[Frames], int | None], frames: Frames, *, trials: int = 3, tolerance: int = 1,
              seed: int = 0, progress: Callable[[str], None] | None = None) -> dict:
    """Run ``select`` (frames -> chosen source index) on the clean clip and on ``trials`` perturbed copies
    per perturbation. Returns the reference index and, per perturbation and overall, the fraction of
    trials that chose the same frame within ``tolerance``.

    When the reference frame itself is dropped, picking a neighbour within ``tolerance`` still counts.
    """
    reference = select(frames)
    rng = np.random.default_rng(seed)
    per: dict[str, float] = {}
    hits_all = total = 0
    for name, perturb in PERTURBATIONS.items():
        hits = 0
        for _ in range(trials):
            if progress:
                progress(name)
            chosen = select(perturb(frames, rng))
            hits += int(reference is not None and chosen is not None and abs(chosen - reference) <= tolerance)
        per[name] = round(hits / trials, 4)
        hits_all += hits
        total += trials
    return {"reference_index": reference, "tolerance_frames": tolerance, "trials_per_perturbation": trials,
            "same_frame_rate": per, "same_frame_rate_overall": round(hits_all / max(1, total), 4)}


def demo_clip(n_frames: int = 15, sharp_index: int = 9, seed: int = 0) -> Frames:
    """A synthetic clip from a real photo (Grace Hopper, shipped with matplotlib): every frame is
    blurred or darkened and slightly shifted, except frame ``sharp_index``, which is the clean photo."""
    import cv2

    from evaluation.pairs import _package_file

    photo = np.asarray(Image.open(_package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")).convert("RGB"))
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_frames):
        dx, dy = (int(v) for v in rng.integers(-6, 7, 2))
        f = np.roll(photo, (dy, dx), axis=(0, 1))
        if i != sharp_index:
            f = cv2.GaussianBlur(f, (0, 0), float(rng.uniform(2.5, 4.0))) if i % 2 else (f * rng.uniform(0.3, 0.45)
                                                                                         ).astype(np.uint8)
        frames.append((i, i * 200.0, np.ascontiguousarray(f)))
    return frames
