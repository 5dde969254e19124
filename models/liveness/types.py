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
    shap: float = Field(description="contribution to the live log-odds; > 0 pushes towards live")


class PassiveOutput(Record):
    live: bool
    score: float = Field(description="probability-like live score 0-1 (mean over frames)")
    threshold: float
    operating_point: dict[str, float]
    frame_scores: list[float]
    box: tuple[float, float, float, float] | None
    explanation: list[Contribution] = Field(description="features that drove the decision, strongest first")
    evidence: Evidence
