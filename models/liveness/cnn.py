"""Passive liveness CNN (``liveness-passive-cnn``): a small network (MiniFASNet-size, or MobileNetV3-small)
trained by ``veriserve train liveness --model cnn`` from random initialisation, exported to ONNX and served
with onnxruntime on the CPU.

Explanation: occlusion sensitivity — the face crop is covered one cell of a 4x4 grid at a time and the
drop in live probability per cell is reported (``region_r<row>c<col>``), so a reviewer sees which part
of the face the network relied on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

from models.errors import ModelLoadError
from models.liveness.passive import TextureLiveness, trained_dir
from models.liveness.types import Contribution
from models.registry import register_model

WEIGHTS_FILE = "cnn.onnx"
INPUT_PX = 112
MEAN, STD = 0.5, 0.25
GRID = 4


def to_tensor(crops: list[np.ndarray]) -> np.ndarray:
    """(N, 3, 112, 112) float32, normalised, from RGB uint8 crops of any size."""
    x = np.stack([cv2.resize(c, (INPUT_PX, INPUT_PX), interpolation=cv2.INTER_AREA) for c in crops])
    return ((x.astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2).copy()


@register_model
class CNNLiveness(TextureLiveness):
    """Same crop, input and output as the texture model; a learned network instead of named features."""

    name: ClassVar[str] = "liveness-passive-cnn"
    missing_hint = "train one with 'veriserve train liveness --model cnn' or pass its directory"

    def default_path(self) -> Path:
        return trained_dir(self.name)

    def load(self, path: str | Path) -> None:
        import onnxruntime as ort

        from models.face.dlib_backend import HogDetector

        card = self.resolve_card(path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(os.environ.get("VERISERVE_ORT_THREADS", "1"))
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(Path(path) / WEIGHTS_FILE), sess_options=opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own error types
            raise ModelLoadError(f"onnxruntime could not load {Path(path) / WEIGHTS_FILE}: {exc}") from exc
        self.detector = HogDetector(min_margin=float(self.config.get("min_margin", 0.0)))
        self.card = card

    def scores(self, crops: list[np.ndarray]) -> np.ndarray:
        logits = self.session.run(None, {"input": to_tensor(crops)})[0]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True))[:, 1]

    def explain(self, crop: np.ndarray, top: int = 5) -> list[Contribution]:
        """Occlusion sensitivity on a 4x4 grid (explain/occlusion.py): live-probability drop per greyed cell."""
        from explain.occlusion import occlusion

        base, names, drops = occlusion(self.scores, crop, grid=GRID)
        order = np.argsort(-np.abs(drops))[:top]
        return [Contribution(feature=names[i], value=round(float(base - drops[i]), 5), shap=round(float(drops[i]), 5))
                for i in order]
