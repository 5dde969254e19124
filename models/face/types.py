"""Typed inputs and outputs of the face family. Images are RGB ``uint8`` arrays (H, W, 3)."""

from __future__ import annotations

import numpy as np
from pydantic import ConfigDict, Field

from models.base import Record
from models.evidence import Evidence

Point = tuple[float, float]


class ImageRecord(Record):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class DetectInput(ImageRecord):
    image: np.ndarray


class MatchInput(ImageRecord):
    id_image: np.ndarray
    live_image: np.ndarray


class Face(Record):
    """One detected face. Coordinates are pixels in the input image."""

    box: tuple[float, float, float, float] = Field(description="x1, y1, x2, y2 in px")
    score: float = Field(description="detector confidence 0-1")
    landmarks: list[Point] = Field(default_factory=list)
    landmark_scheme: str = Field(default="", description="dlib68, dlib5, insightface5, insightface106")
    keypoints: dict[str, Point] = Field(
        default_factory=dict,
        description="named points: eye_left / eye_right are the eyes on the image's left / right side, "
        "then nose, mouth_left, mouth_right, chin where the scheme has them",
    )

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)


class DetectOutput(Record):
    faces: list[Face]
    image_width: int
    image_height: int
    evidence: Evidence


class MatchOutput(Record):
    similarity: float = Field(description="cosine similarity of the two face embeddings, -1..1")
    score: float = Field(description="similarity mapped to 0-100; 60 is the decision threshold")
    match: bool
    threshold: float = Field(description="similarity threshold applied")
    operating_point: dict[str, float]
    id_face: Face
    live_face: Face
    evidence: Evidence


class QualityInput(ImageRecord):
    image: np.ndarray
    guide_box: tuple[float, float, float, float] | None = Field(
        default=None, description="x1, y1, x2, y2 px of the on-screen guide the face must be inside")


class QualityCheck(Record):
    """One quality check: the measured value, the configured limit and the verdict."""

    name: str
    value: float | None
    limit: str
    passed: bool | None = Field(description="None when the measure cannot be taken with these landmarks")
    reason: str = ""


class FaceQuality(Record):
    face: Face
    score: float
    passed: bool
    measures: dict[str, float | bool | None]
    checks: list[QualityCheck]


class QualityOutput(Record):
    face_count: int
    score: float = Field(description="0-100 ranking score: half the mean, half the worst check")
    passed: bool
    reasons: list[str]
    measures: dict[str, float | bool | None] = Field(description="of the primary (largest) face")
    checks: list[QualityCheck]
    faces: list[FaceQuality]
    evidence: Evidence
