"""Production Mandarin ASR with FunASR (``asr-funasr``): ``AutoModel(model=<local dir>)`` on a Paraformer
model directory (``config.yaml``, ``model.pt``, ``tokens.json``, ``am.mvn``) copied there by the operator.

FunASR would try to download a model whose directory is missing, so this backend checks the directory
and its files first and refuses with the path; the hub is never contacted. Features come from
FunASR's own front end (no torchaudio needed for in-memory audio).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import ClassVar

from models.base import Model, ModelCard, describe_weights
from models.errors import InvalidInput, ModelLoadError
from models.evidence import Evidence, ModelRef
from models.registry import register_model
from models.speech.audio import RATE
from models.speech.keywords import speech_span
from models.speech.types import AsrInput, AsrOutput, Segment

REQUIRED = ("config.yaml", "model.pt")
LICENCE = "FunASR: MIT; model weights as supplied by the operator (Paraformer-zh: FunASR model licence)"


def default_dir() -> Path:
    return Path(os.environ.get("VERISERVE_FUNASR_DIR", "~/.cache/veriserve/paraformer-zh")).expanduser()


@register_model
class FunAsr(Model[AsrInput, AsrOutput]):
    name: ClassVar[str] = "asr-funasr"
    input_type = AsrInput
    output_type = AsrOutput
    missing_hint = ("copy a FunASR model directory there (config.yaml, model.pt, tokens.json, am.mvn), e.g. "
                    "paraformer-zh exported on a connected machine, or set VERISERVE_FUNASR_DIR")

    def default_path(self) -> Path:
        return default_dir()

    def default_card(self, path: Path) -> ModelCard:
        for f in REQUIRED:
            if not (path / f).is_file():
                raise ModelLoadError(f"FunASR model directory {path} lacks {f}; {self.missing_hint}")
        files = {f.name: LICENCE for f in sorted(path.iterdir()) if f.is_file()}
        return ModelCard(
            name=self.name, family="speech", task="asr", version=f"dir:{path.name}", backend="funasr",
            licence=LICENCE, commercial_use=False,
            data_provenance="FunASR model directory supplied by the operator (Paraformer-zh is trained by "
                            "Alibaba DAMO on tens of thousands of hours of Mandarin); digests pinned at registration",
            intended_use="general Mandarin transcription of dual-recording answers and read-aloud sentences",
            config=dict(self.config), weights=describe_weights(path, files),
            limitations=["check the model's own licence before commercial use"],
        )

    def load(self, path: str | Path) -> None:
        path = Path(path)
        card = self.resolve_card(path)  # refuses a missing directory before FunASR could try a download
        try:
            from funasr import AutoModel
        except ImportError as exc:
            raise ModelLoadError("funasr is not installed; install the 'funasr' extra") from exc
        try:
            self.model = AutoModel(model=str(path), hub="ms", disable_update=True, check_latest=False,
                                   device=self.config.get("device", "cpu"), disable_pbar=True, disable_log=True)
        except Exception as exc:  # FunASR raises assorted errors for a malformed directory
            raise ModelLoadError(f"FunASR could not load {path}: {type(exc).__name__}: {exc}") from exc
        self._lock = threading.Lock()
        self.card = card

    def predict(self, inp: AsrInput) -> AsrOutput:
        if inp.mode != "open":
            raise InvalidInput(f"{self.name} transcribes freely (mode open); intent is decided on the transcript")
        t0 = time.perf_counter()
        with self._lock:
            res = self.model.generate(input=inp.audio.astype("float32"), batch_size_s=60)
        ms = (time.perf_counter() - t0) * 1000
        text = "".join(str(r.get("text", "")) for r in res or []).replace(" ", "")
        duration = len(inp.audio) / RATE
        stamps = (res[0].get("timestamp") if res else None) or []
        if stamps and len(stamps) == len(text):
            segs = [Segment(text=c, start_s=round(a / 1000, 2), end_s=round(b / 1000, 2)) for c, (a, b) in
                    zip(text, stamps, strict=True)]
        else:
            start, end = speech_span(inp.audio)
            segs = [Segment(text=text, start_s=start, end_s=end)] if text else []
        return AsrOutput(text=text, segments=segs, language="zh", duration_s=round(duration, 3),
                         evidence=Evidence(models=[ModelRef.of(self.card)],
                                           scores={"rtf": round(ms / 1000 / max(duration, 1e-6), 4)},
                                           reasons=["FunASR AutoModel on a local model directory"],
                                           timings_ms={"decode": round(ms, 2)}))
