"""Decision evidence returned with every model result (API.md): which models, which thresholds,
which sub-scores and why — enough to answer "which model and threshold decided this customer"."""

from __future__ import annotations

from pydantic import Field

from models.base import ModelCard, Record


class ModelRef(Record):
    name: str
    version: str
    backend: str
    weights_digest: str

    @classmethod
    def of(cls, card: ModelCard) -> ModelRef:
        return cls(name=card.name, version=card.version, backend=card.backend, weights_digest=card.digest)


class AppliedThreshold(Record):
    name: str
    value: float
    operating_point: dict[str, float] = Field(default_factory=dict)
    source: str = ""


class Evidence(Record):
    models: list[ModelRef] = Field(default_factory=list)
    thresholds: list[AppliedThreshold] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)
    reasons: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
