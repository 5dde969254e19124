"""English speech recognition with pocketsphinx 5 (``asr-pocketsphinx-en``), whose en-us acoustic model,
dictionary and language model ship inside the wheel.

Modes: ``open`` (the general language model), ``grammar`` (the answer must be one of ``phrases``: a JSGF
grammar built from them — the right tool for yes/no confirmations) and ``keywords`` (spot any of
``phrases`` inside free speech).
"""

from __future__ import annotations

import importlib.util
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import ClassVar

from models.base import Model, ModelCard, describe_weights
from models.errors import InvalidInput, ModelLoadError
from models.evidence import Evidence, ModelRef
from models.registry import register_model
from models.speech.audio import RATE
from models.speech.types import AsrInput, AsrOutput, Segment

FILES = ["en-us/en-us/mdef", "en-us/en-us/means", "en-us/en-us/variances", "en-us/en-us/noisedict",
         "en-us/en-us/transition_matrices", "en-us/en-us/sendump", "en-us/en-us/feat.params",
         "en-us/cmudict-en-us.dict", "en-us/en-us.lm.bin"]
LICENCE = "pocketsphinx and its en-us model: BSD-2-Clause (CMU Sphinx)"
FRAME_S = 0.01


def model_dir() -> Path:
    spec = importlib.util.find_spec("pocketsphinx")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("pocketsphinx is not installed; install 'pocketsphinx>=5' (the en-us model ships in it)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _words(phrase: str) -> list[str]:
    return re.findall(r"[a-z']+", phrase.lower())


@register_model
class SphinxASR(Model[AsrInput, AsrOutput]):
    name: ClassVar[str] = "asr-pocketsphinx-en"
    input_type = AsrInput
    output_type = AsrOutput
    missing_hint = "install pocketsphinx>=5"

    def default_path(self) -> Path:
        return model_dir()

    def default_card(self, path: Path) -> ModelCard:
        return ModelCard(
            name=self.name, family="speech", task="asr", version="pocketsphinx-5-en-us", backend="pocketsphinx",
            licence=LICENCE, commercial_use=True,
            data_provenance="CMU Sphinx en-us continuous acoustic model and generic language model (trained by "
                            "CMU on US English read and broadcast speech), shipped in the pocketsphinx wheel",
            intended_use="English answers in dual recording; grammar mode for constrained confirmations",
            config=dict(self.config), weights=describe_weights(path, {f: LICENCE for f in FILES}),
            limitations=["general English transcription is weak on synthetic and accented speech; use grammar "
                         "mode for yes/no answers"],
        )

    def load(self, path: str | Path) -> None:
        card = self.resolve_card(path)
        from pocketsphinx import Config, Decoder

        root = Path(path) / "en-us"
        config = Config(hmm=str(root / "en-us"), dict=str(root / "cmudict-en-us.dict"),
                        lm=str(root / "en-us.lm.bin"), samprate=RATE, loglevel="FATAL")
        self.decoder = Decoder(config)
        self._open_search = self.decoder.current_search()
        self.vocab = {line.split()[0].split("(")[0] for line in
                      (root / "cmudict-en-us.dict").read_text(encoding="utf-8", errors="ignore").splitlines() if line}
        self._lock = threading.Lock()  # one decoder, one utterance at a time
        self._searches: dict[str, str] = {}
        self._workdir = Path(tempfile.mkdtemp(prefix="veriserve-kws-"))
        self.card = card

    def _search(self, mode: str, phrases: list[str]) -> str:
        if mode == "open":
            return self._open_search
        if mode not in ("grammar", "keywords"):
            raise InvalidInput(f"mode {mode!r}: expected open, grammar or keywords")
        if not phrases:
            raise InvalidInput(f"mode {mode}: give the allowed answers in phrases")
        words = [w for p in phrases for w in _words(p)]
        unknown = sorted({w for w in words if w not in self.vocab})
        if unknown:
            raise InvalidInput(f"phrases use words outside the pronunciation dictionary: {', '.join(unknown)}")
        key = f"{mode}:{'|'.join(sorted(phrases))}"
        if key not in self._searches:
            name = f"s{len(self._searches)}"
            if mode == "grammar":
                alts = " | ".join(" ".join(_words(p)) for p in phrases)
                self.decoder.add_jsgf_string(name, f"#JSGF V1.0; grammar g; public <answer> = {alts};")
            else:
                threshold = float(self.config.get("kws_threshold", 1e-10))
                keyfile = self._workdir / f"{name}.kws"
                keyfile.write_text("".join(f"{' '.join(_words(p))} /{threshold:g}/\n" for p in phrases))
                self.decoder.add_kws(name, str(keyfile))
            self._searches[key] = name
        return self._searches[key]

    def predict(self, inp: AsrInput) -> AsrOutput:
        import numpy as np

        pcm = (np.clip(inp.audio, -1, 1) * 32767).astype("<i2").tobytes()
        t0 = time.perf_counter()
        with self._lock:
            search = self._search(inp.mode, inp.phrases)
            self.decoder.activate_search(search)
            self.decoder.start_utt()
            self.decoder.process_raw(pcm, full_utt=True)
            self.decoder.end_utt()
            hyp = self.decoder.hyp()
            segs = [Segment(text=s.word.split("(")[0], start_s=round(s.start_frame * FRAME_S, 2),
                            end_s=round(s.end_frame * FRAME_S, 2),
                            confidence=round(float(np.exp(max(s.prob, -700))), 4))
                    for s in (self.decoder.seg() or []) if not s.word.startswith(("<", "["))]
        text = hyp.hypstr.strip() if hyp else ""
        ms = (time.perf_counter() - t0) * 1000
        duration = len(inp.audio) / RATE
        return AsrOutput(text=text, segments=segs, language="en", duration_s=round(duration, 3),
                         evidence=Evidence(models=[ModelRef.of(self.card)],
                                           scores={"rtf": round(ms / 1000 / max(duration, 1e-6), 4)},
                                           reasons=[f"mode {inp.mode}"], timings_ms={"decode": round(ms, 2)}))
