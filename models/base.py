"""The model contract (DESIGN.md §3): a card, ``load(path)`` and ``predict(input) -> output``.

A :class:`ModelCard` is a frozen record of what a model is and how it was made: the digests of every
weight file are part of it and are checked by :meth:`Model.load` before any weight is read.
"""

from __future__ import annotations

import abc
import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from models.digests import file_digests
from models.errors import ModelLoadError

CARD_FILE = "card.json"


class Record(BaseModel):
    """Base for all typed records: unknown fields raise, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class WeightFile(Record):
    """One weight file, relative to the model directory, pinned by SHA-256 and SM3."""

    path: str
    sha256: str
    sm3: str
    size_bytes: int
    licence: str = ""


class Threshold(Record):
    """A decision threshold and the operating point it was chosen for.

    ``operating_point`` names the error rates at this value, e.g. ``{"fmr": 1e-4}``; ``source`` says
    how it was obtained (published figure, calibration run id, ...).
    """

    value: float
    operating_point: dict[str, float] = Field(default_factory=dict)
    higher_is_accept: bool = True
    source: str = ""


class ModelCard(Record):
    """What a model is, where its weights came from, and how it decides."""

    name: str
    family: str
    task: str
    version: str
    backend: str
    licence: str
    commercial_use: bool
    data_provenance: str
    intended_use: str = ""
    preprocessing: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(
        default_factory=dict, description="model configuration the weights were registered with")
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    limitations: list[str] = Field(default_factory=list)
    weights: list[WeightFile] = Field(default_factory=list)

    @property
    def digest(self) -> str:
        """One SHA-256 over the sorted weight digests: a short identity for the whole weight set."""
        joined = "\n".join(sorted(f"{w.path}:{w.sha256}" for w in self.weights))
        return hashlib.sha256(joined.encode()).hexdigest()

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_file(cls, path: str | Path) -> ModelCard:
        try:
            return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot read model card {path}: {exc}") from exc

    def write(self, directory: str | Path) -> Path:
        out = Path(directory) / CARD_FILE
        out.write_text(self.to_json(), encoding="utf-8")
        return out


def describe_weights(root: str | Path, files: dict[str, str]) -> list[WeightFile]:
    """Digest weight files under ``root``; ``files`` maps relative path -> licence text."""
    out = []
    for rel, licence in files.items():
        p = Path(root) / rel
        if not p.is_file():
            raise ModelLoadError(f"weight file not found: {p}")
        sha, sm3 = file_digests(p)
        out.append(WeightFile(path=rel, sha256=sha, sm3=sm3, size_bytes=p.stat().st_size, licence=licence))
    return out


def verify_weights(card: ModelCard, root: str | Path) -> None:
    """Check every weight file named in ``card`` against its SHA-256 and SM3 digest.

    Raises :class:`ModelLoadError` naming the first file that is missing or differs.
    """
    root = Path(root)
    for w in card.weights:
        p = root / w.path
        if not p.is_file():
            raise ModelLoadError(f"model {card.name}: weight file missing: {p}")
        sha, sm3 = file_digests(p)
        if sha != w.sha256 or sm3 != w.sm3:
            raise ModelLoadError(
                f"model {card.name}: weight file {p} does not match its card "
                f"(sha256 expected {w.sha256[:16]}…, got {sha[:16]}…); refusing to load"
            )


In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


class Model(abc.ABC, Generic[In, Out]):
    """Abstract base of every Veriserve model.

    Subclasses set ``name`` (the registry name) and implement :meth:`default_card`, :meth:`load` and
    :meth:`predict`. ``card`` is the card of the weights actually loaded.
    """

    name: ClassVar[str] = ""
    missing_hint: ClassVar[str] = "put the weights there or pass another path"
    input_type: ClassVar[type[BaseModel]]
    output_type: ClassVar[type[BaseModel]]

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.card: ModelCard | None = None

    @abc.abstractmethod
    def default_card(self, path: Path) -> ModelCard:
        """The card for weights laid out at ``path`` when no ``card.json`` is there."""

    @abc.abstractmethod
    def load(self, path: str | Path) -> None:
        """Verify and load weights from a local directory. Never downloads."""

    @abc.abstractmethod
    def predict(self, inp: In) -> Out:
        """Run the model on one typed input."""

    def default_path(self) -> Path:
        """Where weights live when the caller gives no path. Models without a built-in location raise."""
        raise ModelLoadError(f"model {self.name}: no default weights location; pass a path")

    def resolve_card(self, path: str | Path) -> ModelCard:
        """Card for ``path``: its ``card.json`` if present, else :meth:`default_card`; then verified."""
        path = Path(path)
        if not path.is_dir():
            raise ModelLoadError(f"model {self.name}: weights directory does not exist: {path} — "
                                 f"{self.missing_hint}; nothing is downloaded")
        card_file = path / CARD_FILE
        card = ModelCard.from_file(card_file) if card_file.is_file() else self.default_card(path)
        if card.name != self.name:
            raise ModelLoadError(f"card at {path} is for model {card.name!r}, not {self.name!r}")
        verify_weights(card, path)
        return card

    @property
    def loaded(self) -> bool:
        return self.card is not None
