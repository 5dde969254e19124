"""Smart frame selection (seed clause 8.4e): the best headshots from a video or a burst of images.

Each sampled frame goes through the face-quality model; frames with exactly one face are ranked by
a blend of quality score, frontality, sharpness and open eyes; the top ``k`` are returned with the
best one cropped as a JPEG headshot.
"""

from __future__ import annotations

import base64
import math
import time

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models.base import Record
from models.evidence import Evidence, ModelRef
from models.face.quality import FaceQualityModel
from models.face.types import Face, FaceQuality
from models.imageio import encode_jpeg


class FrameWeights(BaseModel):
    """How the rank score (0–100) blends its parts; the weights sum to 1."""

    model_config = ConfigDict(extra="forbid")

    quality: float = 0.55
    frontality: float = 0.20
    sharpness: float = 0.15
    eyes_open: float = 0.10
    sharpness_full_at: float = 200.0  # sharpness at which the sharpness part is full


class SelectedFrame(Record):
    index: int = Field(description="frame number in the source video (or position in the image list)")
    timestamp_ms: float
    score: float = Field(description="rank score 0-100")
    quality_score: float
    passed: bool = Field(description="all face-quality checks passed")
    reasons: list[str]
    measures: dict[str, float | bool | None]
    box: tuple[float, float, float, float]


class FrameSelectOutput(Record):
    frames: list[SelectedFrame]
    frames_considered: int
    frames_with_one_face: int
    best_image_b64: str | None = Field(description="JPEG headshot crop of the best frame, base64")
    evidence: Evidence


def headshot_box(box, width: int, height: int, scale: float = 1.8) -> tuple[int, int, int, int]:
    """A passport-like crop around a face box: ``scale`` x the face width, 1.25 x that in height."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - 0.05 * (y2 - y1)
    half_w = scale * (x2 - x1) / 2
    half_h = 1.25 * half_w
    return (max(0, int(cx - half_w)), max(0, int(cy - half_h)), min(width, int(cx + half_w)),
            min(height, int(cy + half_h)))


class FrameSelector:
    """Rank frames with a loaded face-quality model. ``weights`` tunes the blend (see :class:`FrameWeights`)."""

    def __init__(self, quality: FaceQualityModel, weights: dict | None = None) -> None:
        self.quality = quality
        self.weights = FrameWeights.model_validate(weights or {})

    def rank_score(self, q: FaceQuality) -> float:
        w, m = self.weights, q.measures
        yaw, pitch = m.get("yaw_deg") or 0.0, m.get("pitch_deg") or 0.0
        frontal = max(0.0, 1.0 - math.hypot(yaw, pitch) / 45.0)
        sharp = min(1.0, float(m.get("sharpness") or 0.0) / w.sharpness_full_at)
        eyes = 1.0 if m.get("eyes_open") is not False else 0.0
        return round(w.quality * q.score + 100.0 * (w.frontality * frontal + w.sharpness * sharp
                                                    + w.eyes_open * eyes), 2)

    def assess_frame(self, image: np.ndarray) -> tuple[Face, FaceQuality] | None:
        """Quality of the single face in a frame, or None when there is not exactly one."""
        faces = self.quality.faces.detect(image)
        if len(faces) != 1:
            return None
        return faces[0], self.quality.assess(image, faces[0])

    def select(self, frames: list[tuple[int, float, np.ndarray]], k: int = 3) -> FrameSelectOutput:
        t0 = time.perf_counter()
        ranked = []
        for index, ts, image in frames:
            found = self.assess_frame(image)
            if found is None:
                continue
            face, q = found
            ranked.append((self.rank_score(q), index, ts, image, face, q))
        ranked.sort(key=lambda r: (-r[0], r[1]))
        top = ranked[: max(1, k)]
        best_b64 = None
        if top:
            _, _, _, image, face, _ = top[0]
            x1, y1, x2, y2 = headshot_box(face.box, image.shape[1], image.shape[0])
            best_b64 = base64.b64encode(encode_jpeg(np.ascontiguousarray(image[y1:y2, x1:x2]), 92)).decode()
        ms = (time.perf_counter() - t0) * 1000
        selected = [SelectedFrame(index=i, timestamp_ms=ts, score=s, quality_score=q.score, passed=q.passed,
                                  reasons=[c.reason for c in q.checks if c.passed is False], measures=q.measures,
                                  box=face.box) for s, i, ts, _, face, q in top]
        reasons = ([f"best frame {selected[0].index} at {selected[0].timestamp_ms:.0f} ms, score "
                    f"{selected[0].score:.1f}"] if selected else ["no frame with exactly one face"])
        return FrameSelectOutput(
            frames=selected, frames_considered=len(frames), frames_with_one_face=len(ranked),
            best_image_b64=best_b64,
            evidence=Evidence(models=[ModelRef.of(self.quality.card)],
                              scores={"best": selected[0].score if selected else 0.0}, reasons=reasons,
                              timings_ms={"select": round(ms, 2),
                                          "per_frame": round(ms / max(1, len(frames)), 2)}),
        )
