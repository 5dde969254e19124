"""Typed inputs and outputs of the liveness family."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from models.base import Record
from models.evidence import Evidence
from models.face.types import ImageRecord


class PassiveInput(ImageRecord):
    """One image, or several frames of the same capture (their scores are averaged)."""

    images: list[np.ndarray]


class Contribution(Record):
    feature: str
    value: float
    shap: float = Field(description="contribution towards live (> 0 pushes towards live): SHAP log-odds for "
                        "the texture model, live-probability drop when the region is occluded for the CNN")


class PassiveOutput(Record):
    live: bool
    score: float = Field(description="probability-like live score 0-1 (mean over frames)")
    threshold: float
    operating_point: dict[str, float]
    frame_scores: list[float]
    box: tuple[float, float, float, float] | None
    explanation: list[Contribution] = Field(description="features that drove the decision, strongest first")
    evidence: Evidence


class ActionInput(ImageRecord):
    """Frames of the customer performing ``actions`` (in order); timestamps in ms, one per frame."""

    images: list[np.ndarray]
    timestamps_ms: list[float]
    actions: list[str]


class ActionResult(Record):
    action: str
    detected: bool
    at_ms: float | None = None
    frame: int | None = None
    peak: float | None = Field(default=None, description="the signal at detection: EAR, MAR or degrees")


class ActionOutput(Record):
    live: bool
    actions: list[ActionResult]
    same_person: bool
    min_similarity: float | None = Field(description="lowest embedding cosine between sampled frames and the first")
    frames_with_face: int
    frames_total: int
    best_frame: int | None
    best_image_b64: str | None = Field(description="JPEG headshot of the best live frame, for face match")
    reasons: list[str]
    evidence: Evidence
