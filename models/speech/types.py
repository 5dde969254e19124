"""Typed inputs and outputs of the speech family. Audio is mono float32 in [-1, 1] at 16 kHz."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from models.base import Record
from models.evidence import Evidence
from models.face.types import ImageRecord


class TtsInput(Record):
    text: str
    lang: str = Field(default="zh", description="zh (Mandarin) or en")
    voice: str = Field(default="", description="espeak-ng variant, e.g. m3, f2 (empty: the language's default)")
    rate: int = Field(default=160, description="words per minute, 80-400")
    pitch: int = Field(default=50, description="0-99")


class TtsOutput(ImageRecord):
    audio: np.ndarray
    sample_rate: int
    duration_s: float
    spoken_text: str = Field(description="the text after numbers, dates and amounts were written out")
    evidence: Evidence


class AsrInput(ImageRecord):
    audio: np.ndarray
    mode: str = Field(default="open", description="open, grammar or keywords (constrained answers)")
    phrases: list[str] = Field(default_factory=list, description="allowed answers for grammar/keywords modes")


class Segment(Record):
    text: str
    start_s: float
    end_s: float
    confidence: float = 1.0


class AsrOutput(Record):
    text: str
    segments: list[Segment]
    language: str
    duration_s: float
    evidence: Evidence
