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
        "then nose, mouth_left, mouth_right where the scheme has them",
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
