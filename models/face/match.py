"""1:1 face match: ID photo vs live image (``face-match-dlib``, ``face-match-insightface``).

Similarity is the cosine of the two L2-normalised embeddings. The 0–100 score is piecewise linear:
the backend's score floor (dlib 0.75: unrelated faces rarely fall below it; ArcFace 0.0) → 0, the
threshold → 60, 1 → 100, so "score ≥ 60" always means "match" whatever the backend and threshold;
the similarity and threshold themselves are returned alongside.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

import numpy as np

from models.base import Model, ModelCard, Threshold
from models.errors import InvalidInput, MultipleFaces, NoFace
from models.evidence import AppliedThreshold, Evidence, ModelRef
from models.face import backends, insightface_backend
from models.face.types import Face, MatchInput, MatchOutput
from models.imageio import check_array
from models.registry import register_model

SCORE_AT_THRESHOLD = 60.0

# dlib publishes a Euclidean distance threshold of 0.6 on its raw descriptors (LFW 99.38%). Its
# descriptors have norms near 1.45 (measured on the shipped test photos), so d = 0.6 corresponds to
# cosine 1 - 0.36 / (2 * 1.45²) ≈ 0.914; we round up to 0.92 (stricter).
DLIB_THRESHOLD = Threshold(
    value=0.92, operating_point={"lfw_accuracy": 0.9938},
    source="dlib published distance 0.6 on LFW, converted to cosine; recalibrate on operator data",
)
INSIGHTFACE_THRESHOLD = Threshold(
    value=0.40, operating_point={},
    source="insightface community default for ArcFace cosine; not calibrated for this pack",
)


def similarity_to_score(similarity: float, threshold: float, floor: float = 0.0) -> float:
    """Map cosine similarity to 0–100: ``floor`` → 0, ``threshold`` → :data:`SCORE_AT_THRESHOLD`, 1 → 100."""
    s = float(np.clip(similarity, floor, 1.0))
    if s <= threshold:
        score = SCORE_AT_THRESHOLD * (s - floor) / (threshold - floor)
    else:
        score = SCORE_AT_THRESHOLD + (100.0 - SCORE_AT_THRESHOLD) * (s - threshold) / (1.0 - threshold)
    return round(score, 2)


class FaceMatch(Model[MatchInput, MatchOutput]):
    """Compare the single face of an ID photo with the face in a live image.

    Config: ``threshold`` (cosine, overrides the card), ``multiple_faces`` ("reject" or "largest",
    for the live image; an ID photo with more than one face is always rejected).
    """

    backend: ClassVar[str]
    default_threshold: ClassVar[Threshold]
    score_floor: ClassVar[float] = 0.0
    input_type = MatchInput
    output_type = MatchOutput

    def default_path(self) -> Path:
        return backends.default_dir(self.backend)

    def default_card(self, path: Path) -> ModelCard:
        config = {**self.config, "landmarks": 5}
        threshold = self.default_threshold
        if "threshold" in self.config:
            threshold = Threshold(value=float(self.config["threshold"]), source="configured at registration")
        return backends.card_for(name=self.name, task="face-match", backend=self.backend, path=path,
                                 config=config, thresholds={"match": threshold})

    def load(self, path: str | Path) -> None:
        card = self.resolve_card(path)
        self.faces = backends.open_backend(self.backend, "face-match", Path(path),
                                           {**self.config, "landmarks": 5})
        self.card = card

    @property
    def threshold(self) -> Threshold:
        base = self.card.thresholds.get("match", self.default_threshold)
        if "threshold" in self.config:
            value = float(self.config["threshold"])
            if not 0.0 < value < 1.0:
                raise InvalidInput(f"threshold must be between 0 and 1, not {value}")
            if value != base.value:
                return Threshold(value=value, operating_point={}, source="configured by operator")
        return base

    def _one_face(self, image: np.ndarray, field: str, policy: str) -> Face:
        faces = self.faces.detect(image)
        if not faces:
            raise NoFace(f"{field}: no face found")
        if len(faces) > 1 and policy != "largest":
            raise MultipleFaces(f"{field}: {len(faces)} faces found; exactly one is required")
        return faces[0]

    def embedding(self, image: np.ndarray, field: str = "image", policy: str = "reject") -> np.ndarray:
        """Unit-length embedding of the single face in ``image`` (used by evaluation and enrolment)."""
        image = check_array(image, field=field)
        return self.faces.embed(image, self._one_face(image, field, policy))

    def predict(self, inp: MatchInput) -> MatchOutput:
        id_image = check_array(inp.id_image, field="id_image")
        live_image = check_array(inp.live_image, field="live_image")
        thr = self.threshold
        t0 = time.perf_counter()
        id_face = self._one_face(id_image, "id_image", "reject")
        live_face = self._one_face(live_image, "live_image", self.config.get("multiple_faces", "reject"))
        t1 = time.perf_counter()
        sim = float(self.faces.embed(id_image, id_face) @ self.faces.embed(live_image, live_face))
        t2 = time.perf_counter()
        match = sim >= thr.value
        score = similarity_to_score(sim, thr.value, self.score_floor)
        verdict = "≥" if match else "<"
        return MatchOutput(
            similarity=round(sim, 4), score=score, match=match, threshold=thr.value,
            operating_point=thr.operating_point, id_face=id_face, live_face=live_face,
            evidence=Evidence(
                models=[ModelRef.of(self.card)],
                thresholds=[AppliedThreshold(name="match", value=thr.value,
                                             operating_point=thr.operating_point, source=thr.source)],
                scores={"similarity": round(sim, 4), "score": score,
                        "id_face_score": id_face.score, "live_face_score": live_face.score},
                reasons=[f"similarity {sim:.3f} {verdict} threshold {thr.value:.3f}: "
                         f"{'same person' if match else 'different people'}"],
                timings_ms={"detect": round((t1 - t0) * 1000, 2), "embed": round((t2 - t1) * 1000, 2)},
            ),
        )


@register_model
class DlibFaceMatch(FaceMatch):
    name = "face-match-dlib"
    backend = "dlib"
    default_threshold = DLIB_THRESHOLD
    score_floor = 0.75


@register_model
class InsightFaceMatch(FaceMatch):
    name = "face-match-insightface"
    backend = "insightface"
    missing_hint = insightface_backend.MISSING_HINT
    default_threshold = INSIGHTFACE_THRESHOLD
