"""Typed inputs and outputs of the OCR family. Images are RGB ``uint8`` arrays (H, W, 3)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from models.base import Record
from models.evidence import Evidence
from models.face.types import ImageRecord

DOC_TYPES = (
    "id_card_front", "id_card_back", "bank_card", "business_licence", "passport", "hk_macau_permit",
    "household_register", "driving_licence", "vehicle_licence", "vat_invoice", "bank_bill",
)
"""Document types with a parser; ``auto`` classifies into one of these."""


class OcrInput(ImageRecord):
    image: np.ndarray
    doc_type: str = Field(default="auto", description="one of DOC_TYPES, or auto")


class TextLine(Record):
    """One recognised line, in the coordinates of the corrected (upright, flattened) document."""

    text: str
    confidence: float
    box: list[tuple[float, float]] = Field(description="four corners, clockwise from top-left, px")

    @property
    def x(self) -> float:
        return min(p[0] for p in self.box)

    @property
    def y(self) -> float:
        return sum(p[1] for p in self.box) / 4

    @property
    def height(self) -> float:
        return max(p[1] for p in self.box) - min(p[1] for p in self.box)


class DocField(Record):
    """One parsed field. ``valid`` is False when a check fails; the value is never silently corrected."""

    value: str
    confidence: float = Field(description="mean recognition confidence of the text it came from, 0-1")
    valid: bool
    reason: str = Field(default="", description="why it is invalid, or what was checked")


class ImageChecks(Record):
    """Capture checks on the corrected document (warnings, not errors)."""

    localised: bool = Field(description="a document outline was found and flattened")
    orientation: int = Field(description="clockwise rotation applied to make the text upright: 0/90/180/270")
    sharpness: float = Field(description="variance of the Laplacian of the document")
    glare_fraction: float = Field(description="share of the document in saturated, colourless highlights")
    warnings: list[str] = Field(default_factory=list)


class OcrOutput(Record):
    doc_type: str
    classified: bool = Field(description="doc_type came from the auto classifier")
    fields: dict[str, DocField]
    lines: list[TextLine]
    checks: ImageChecks
    evidence: Evidence
