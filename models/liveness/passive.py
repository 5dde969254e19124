"""Passive liveness from one image or a few frames (``liveness-passive-texture``), seed clause 8.4a.

A gradient-boosting classifier over named texture features (:mod:`models.liveness.features`) of the
face crop. Every decision comes with its SHAP contributions (TreeExplainer), so a reviewer can see
which texture cues pushed it towards "live" or "attack". The weights are produced by
``veriserve train liveness``; there is no pretrained default to download.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import ClassVar

import numpy as np

from models.base import Model, ModelCard, Threshold
from models.errors import InvalidInput, ModelLoadError, MultipleFaces, NoFace
from models.evidence import AppliedThreshold, Evidence, ModelRef
from models.face.dlib_backend import HogDetector
from models.imageio import check_array
from models.liveness import features
from models.liveness.crops import face_crop
from models.liveness.types import Contribution, PassiveInput, PassiveOutput
from models.registry import register_model

WEIGHTS_FILE = "texture_gbm.pkl"
MAX_FRAMES = 16
CONFIDENT_SCORE = 0.574  # logistic(0.3): the HOG margin face quality requires


def trained_dir(name: str) -> Path:
    """Where ``veriserve train`` writes a model when no output directory is given."""
    return Path(os.environ.get("VERISERVE_HOME", "var")) / "trained" / name


@register_model
class TextureLiveness(Model[PassiveInput, PassiveOutput]):
    """Config: ``threshold`` (live score, overrides the card), ``multiple_faces`` ("reject" | "largest"),
    ``explain_top`` (how many SHAP contributions to return, default 5), ``min_margin`` (HOG margin, 0)."""

    name: ClassVar[str] = "liveness-passive-texture"
    input_type = PassiveInput
    output_type = PassiveOutput
    missing_hint = "train one with 'veriserve train liveness' (the bootstrap does) or pass its directory"

    def default_path(self) -> Path:
        return trained_dir(self.name)

    def default_card(self, path: Path) -> ModelCard:
        raise ModelLoadError(f"{path} has no card.json: a trained liveness model always carries one; "
                             f"{self.missing_hint}")

    def load(self, path: str | Path) -> None:
        card = self.resolve_card(path)  # digests are checked before the pickle is opened
        try:
            with open(Path(path) / WEIGHTS_FILE, "rb") as fh:
                self.classifier = pickle.load(fh)  # noqa: S301 - verified against the card's SHA-256/SM3
        except (OSError, pickle.UnpicklingError, AttributeError, ImportError) as exc:
            raise ModelLoadError(f"cannot read {Path(path) / WEIGHTS_FILE}: {exc}") from exc
        if getattr(self.classifier, "n_features_in_", None) != len(features.FEATURE_NAMES):
            raise ModelLoadError(f"{WEIGHTS_FILE} expects {getattr(self.classifier, 'n_features_in_', '?')} "
                                 f"features, this code makes {len(features.FEATURE_NAMES)}")
        # dlib's own margin (0): attack images are often degraded, and training used the same detector
        self.detector = HogDetector(min_margin=float(self.config.get("min_margin", 0.0)))
        self._explainer = None
        self.card = card

    @property
    def threshold(self) -> Threshold:
        base = self.card.thresholds.get("live", Threshold(value=0.5, source="default"))
        if "threshold" in self.config and float(self.config["threshold"]) != base.value:
            return Threshold(value=float(self.config["threshold"]), source="configured by operator")
        return base

    def crop(self, image: np.ndarray, field: str = "image") -> tuple[np.ndarray, tuple]:
        """The face crop the classifier sees, and the face box."""
        found = self.detector.boxes(image)
        if not found:
            raise NoFace(f"{field}: no face found")
        # the detector runs permissively (margin 0) to find faces in degraded attacks; only confident
        # detections (margin >= 0.3, as for face quality) count as a second person in the picture
        confident = [b for b in found if b[1] >= CONFIDENT_SCORE]
        if len(confident) > 1 and self.config.get("multiple_faces", "reject") != "largest":
            raise MultipleFaces(f"{field}: {len(confident)} faces found; exactly one is required")
        box = max(found, key=lambda b: (b[0][2] - b[0][0]) * (b[0][3] - b[0][1]))[0]
        return face_crop(image, box), box

    def scores(self, crops: list[np.ndarray]) -> np.ndarray:
        """Live probability of each face crop."""
        x = np.stack([features.extract(c) for c in crops])
        return self.classifier.predict_proba(x)[:, 1]

    def explain(self, crop: np.ndarray, top: int = 5) -> list[Contribution]:
        """SHAP contributions (log-odds of live) of the strongest features for one crop (explain/tree.py)."""
        from explain.tree import TreeExplanations

        if self._explainer is None:
            self._explainer = TreeExplanations(self.classifier, features.FEATURE_NAMES)
        att = self._explainer.explain(features.extract(crop)[None, :])
        return [Contribution(feature=name, value=round(value, 5), shap=round(shap, 5))
                for name, value, shap in att.top(0, top)]

    def predict(self, inp: PassiveInput) -> PassiveOutput:
        if not inp.images:
            raise InvalidInput("images: need at least one image")
        if len(inp.images) > MAX_FRAMES:
            raise InvalidInput(f"images: at most {MAX_FRAMES} frames per request")
        t0 = time.perf_counter()
        crops, boxes = [], []
        for i, image in enumerate(inp.images):
            crop, box = self.crop(check_array(image, field=f"images[{i}]"), f"images[{i}]")
            crops.append(crop)
            boxes.append(box)
        t1 = time.perf_counter()
        frame_scores = self.scores(crops)
        score = float(frame_scores.mean())
        thr = self.threshold
        live = score >= thr.value
        best = int(np.argmin(np.abs(frame_scores - score)))
        explanation = self.explain(crops[best], int(self.config.get("explain_top", 5)))
        t2 = time.perf_counter()
        push = ", ".join(f"{c.feature} ({'+' if c.shap > 0 else '−'})" for c in explanation[:3])
        return PassiveOutput(
            live=live, score=round(score, 4), threshold=thr.value, operating_point=thr.operating_point,
            frame_scores=[round(float(s), 4) for s in frame_scores], box=boxes[best], explanation=explanation,
            evidence=Evidence(
                models=[ModelRef.of(self.card)],
                thresholds=[AppliedThreshold(name="live", value=thr.value, operating_point=thr.operating_point,
                                             source=thr.source)],
                scores={"live": round(score, 4)},
                reasons=[f"live score {score:.3f} {'≥' if live else '<'} threshold {thr.value:.3f}: "
                         f"{'bona fide' if live else 'presentation attack suspected'}; strongest cues: {push}"],
                timings_ms={"detect": round((t1 - t0) * 1000, 2), "classify_explain": round((t2 - t1) * 1000, 2)},
            ),
        )
