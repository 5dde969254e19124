"""The embedded Chinese answer recogniser (``asr-intent-zh``): a small convolutional classifier over
log-mel features that tells which phrase of the dual-recording vocabulary was said — a confirmation, a
refusal, a digit, one of the read-aloud sentences — or ``<other>`` (speech outside the vocabulary).

It is trained by ``veriserve train asr-intent`` on synthesised speech (see training/speech); no
pretrained Chinese recogniser can be had offline. It is a closed-vocabulary keyword model, not a
general transcriber: its transcript is the phrase it recognised, with the phrase probability as
confidence, and anything it is unsure of is reported with low confidence (so intent is "unclear").
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import ClassVar

import numpy as np

from models.base import Model, ModelCard
from models.errors import InvalidInput, ModelLoadError
from models.evidence import Evidence, ModelRef
from models.registry import register_model
from models.speech.audio import RATE
from models.speech.features import N_MELS, fbank
from models.speech.types import AsrInput, AsrOutput, Segment

WEIGHTS = "keywords.pt"
CONFIG = "keywords.json"
OTHER = "<other>"
PAD_S = 0.2


def build_network(n_classes: int, width: int = 128):
    import torch
    from torch import nn

    class KeywordNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv1d(N_MELS, width, 5, padding=2), nn.BatchNorm1d(width), nn.ReLU(),
                nn.Conv1d(width, width, 5, stride=2, padding=2), nn.BatchNorm1d(width), nn.ReLU(),
                nn.Conv1d(width, width, 5, stride=2, padding=2), nn.BatchNorm1d(width), nn.ReLU(),
                nn.Conv1d(width, width, 3, stride=2, padding=1), nn.BatchNorm1d(width), nn.ReLU(),
            )
            self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(2 * width, n_classes))

        def forward(self, x):  # (B, T, 80) -> (B, classes) logits; mean and max pooled over time
            h = self.body(x.transpose(1, 2))
            return self.head(torch.cat([h.mean(-1), h.amax(-1)], dim=1))

    return KeywordNet()


def normalise(feats: np.ndarray) -> np.ndarray:
    """Per-utterance mean and variance normalisation."""
    return ((feats - feats.mean(0, keepdims=True)) / (feats.std(0, keepdims=True) + 1e-5)).astype(np.float32)


def speech_span(audio: np.ndarray) -> tuple[float, float]:
    """Start and end (s) of the part louder than 10 % of the peak short-time energy."""
    frame = RATE // 100
    n = len(audio) // frame
    if n == 0:
        return 0.0, len(audio) / RATE
    energy = np.sqrt((audio[: n * frame].reshape(n, frame) ** 2).mean(1))
    loud = np.nonzero(energy > 0.1 * energy.max())[0]
    if not len(loud):
        return 0.0, len(audio) / RATE
    return round(loud[0] * 0.01, 2), round((loud[-1] + 1) * 0.01, 2)


@register_model
class KeywordASR(Model[AsrInput, AsrOutput]):
    name: ClassVar[str] = "asr-intent-zh"
    input_type = AsrInput
    output_type = AsrOutput
    missing_hint = "train it with 'veriserve train asr-intent' (the bootstrap does) or pass its directory"

    def default_path(self) -> Path:
        from models.liveness.passive import trained_dir

        return trained_dir(self.name)

    def default_card(self, path: Path) -> ModelCard:
        raise ModelLoadError(f"{path} has no card.json: a trained recogniser always carries one; {self.missing_hint}")

    def load(self, path: str | Path) -> None:
        import torch

        card = self.resolve_card(path)  # digests checked before the weights are read
        try:
            cfg = json.loads((Path(path) / CONFIG).read_text(encoding="utf-8"))
            self.classes = list(cfg["classes"])
            self.net = build_network(len(self.classes), int(cfg.get("width", 128)))
            self.net.load_state_dict(torch.load(Path(path) / WEIGHTS, map_location="cpu", weights_only=True))
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"cannot read the recogniser in {path}: {exc}") from exc
        self.net.eval()
        self.card = card

    def probabilities(self, audio: np.ndarray) -> np.ndarray:
        import torch

        pad = np.zeros(int(PAD_S * RATE), np.float32)  # training clips always carry some silence around
        feats = fbank(np.concatenate([pad, audio.astype(np.float32), pad]))
        if len(feats) < 16 + 2 * PAD_S * 100:
            raise InvalidInput("audio: too short to recognise")
        with torch.inference_mode():
            return self.net(torch.from_numpy(normalise(feats))[None]).softmax(-1)[0].numpy()

    def predict(self, inp: AsrInput) -> AsrOutput:
        if inp.mode not in ("open", "keywords"):
            raise InvalidInput(f"{self.name} recognises its closed vocabulary (modes open / keywords)")
        t0 = time.perf_counter()
        p = self.probabilities(inp.audio)
        allowed = [i for i, c in enumerate(self.classes) if c != OTHER and (not inp.phrases or c in inp.phrases)]
        best = max(allowed, key=lambda i: p[i]) if allowed else int(np.argmax(p))
        phrase, conf = self.classes[best], float(p[best])
        other = float(p[self.classes.index(OTHER)]) if OTHER in self.classes else 0.0
        if other > conf:  # outside the vocabulary: no transcript, and the confidence that it is not a phrase
            phrase, conf = "", other
        ms = (time.perf_counter() - t0) * 1000
        start, end = speech_span(inp.audio)
        top = np.argsort(-p)[:3]
        return AsrOutput(
            text=phrase, segments=[Segment(text=phrase, start_s=start, end_s=end, confidence=round(conf, 4))]
            if phrase else [], language="zh", duration_s=round(len(inp.audio) / RATE, 3),
            evidence=Evidence(models=[ModelRef.of(self.card)],
                              scores={"confidence": round(conf, 4),
                                      **{f"p.{self.classes[i]}": round(float(p[i]), 4) for i in top}},
                              reasons=["closed-vocabulary keyword recogniser" +
                                       ("" if phrase else ": speech outside the vocabulary")],
                              timings_ms={"recognise": round(ms, 2)}))
