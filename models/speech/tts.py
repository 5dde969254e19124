"""Text to speech with espeak-ng 1.52 (``tts-espeak``), loaded through ctypes from the ``espeakng-loader``
wheel, which carries the library and its voice data — nothing to install from Debian, nothing to download.

espeak-ng keeps global state, so one process-wide lock serialises synthesis (it runs far faster than
real time: about 1 s of CPU per minute of speech). Output is 16 kHz mono.
"""

from __future__ import annotations

import ctypes
import importlib.util
import threading
import time
import zlib
from pathlib import Path
from typing import ClassVar

import numpy as np

from models.base import Model, ModelCard, WeightFile, describe_weights
from models.errors import InvalidInput, ModelLoadError
from models.evidence import Evidence, ModelRef
from models.registry import register_model
from models.speech.audio import RATE, resample
from models.speech.types import TtsInput, TtsOutput
from models.speech.zh_text import normalise

LICENCE = "espeak-ng: GPL-3.0-or-later (library and voice data, used unmodified as a separate shared library)"
LANG_VOICES = {"zh": "cmn", "en": "en-us"}
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5"]
MAX_CHARS = 2000
_KNOWN = {  # files of espeakng-loader 0.2.4 (espeak-ng 1.52), pinned: (size, SHA-256, SM3)
    "libespeak-ng.so": (661568, "b15ce0803b26254e8a0d088c6b9281a2637b2b02613147cc320cfdefaf2c3ccf",
                        "97ef9be9827239fa0c7bf1317483f73bce5c7f92c8eb45f76e645a5bc3487b28"),
    "espeak-ng-data/phondata": (554740, "a0b643b155cb6b12628d9e7865b57d9fca0d35844614f2594a5e009c80c80bb4",
                                "f7e893160f6b66653989351fe091986837c6232ad2fe0b30d961a10e5d6e2cf7"),
    "espeak-ng-data/phonindex": (43316, "384e5fa6f714ba5356c58008249b78699c31c1ad044b243068d263fb806b7d73",
                                 "2949d45aeac359f071898afac73fe7076f09e3cc0c62457dad389a97de002c3b"),
    "espeak-ng-data/phontab": (58652, "1b40690667e1e9aa1ba5e5234773c799e7e72ea751426e5150423d53c3f24fa2",
                               "4eb0c168ea729ded7413e7a1828ceb23527af730ac7e63f2e972d461f5cbafdf"),
    "espeak-ng-data/intonations": (2312, "031a105bf6bb2ebcd73a2c579ccfb42469b27266db0078af65ae298fd3588b21",
                                   "df276f69f4f5f7b4494a186647074c144b0b3d409396ec3bd42803cb081a4ef4"),
    "espeak-ng-data/cmn_dict": (1566347, "2a41ddab7213d0284a984def6b40c72cbc40b346d3220db08c6ae324f46d59aa",
                                "ae98e411802bf7cd52354003acd77ccd9ca6b770f3b42d37d3bc6bd8c35963e3"),
    "espeak-ng-data/en_dict": (168204, "1053f74a34af38abb6fbd64b7838dacbc655a687c48ce1bb663d364a127b05de",
                               "d9a956d9f128b00d4cc542972eef0153f8db7d99d18943ccae65e203a6df870f"),
}
KNOWN_WEIGHTS = [WeightFile(path=p, size_bytes=s, sha256=a, sm3=b, licence=LICENCE) for p, (s, a, b) in _KNOWN.items()]

_LOCK = threading.Lock()
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


def wheel_dir() -> Path:
    spec = importlib.util.find_spec("espeakng_loader")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("package espeakng-loader is not installed; install it with 'pip install "
                             "espeakng-loader' (espeak-ng and its voices ship inside the wheel)")
    return Path(next(iter(spec.submodule_search_locations)))


def voice_files(root: Path):
    """The voice and language definitions espeak-ng reads at start-up (small text files): without any of
    them the library exits the process, so they travel with the pinned files into the model store."""
    data = root / "espeak-ng-data"
    rel = ["espeak-ng-data/phondata-manifest"] + sorted(
        str(p.relative_to(root)) for sub in ("lang", "voices") for p in (data / sub).rglob("*") if p.is_file())
    return describe_weights(root, {r: LICENCE for r in rel})


class Espeak:
    """The espeak-ng shared library, initialised once per process in synchronous mode."""

    _instance: ClassVar[Espeak | None] = None

    def __init__(self, root: Path) -> None:
        # espeak-ng exits the whole process when a data file is missing: check them first
        missing = [p for p in _KNOWN if not (root / p).is_file()]
        if missing:
            raise ModelLoadError(f"espeak-ng data incomplete under {root}: missing {', '.join(missing)}")
        try:
            self.lib = ctypes.CDLL(str(root / "libespeak-ng.so"))
        except OSError as exc:
            raise ModelLoadError(f"cannot load {root / 'libespeak-ng.so'}: {exc}") from exc
        self.rate = self.lib.espeak_Initialize(2, 0, str(root / "espeak-ng-data").encode(), 0)  # 2 = synchronous
        if self.rate <= 0:
            raise ModelLoadError(f"espeak-ng failed to initialise with data at {root / 'espeak-ng-data'}")
        self._chunks: list[np.ndarray] = []
        self._cb = _CALLBACK(self._collect)  # keep a reference: the library calls it later
        self.lib.espeak_SetSynthCallback(self._cb)
        self._seed = getattr(self.lib, "espeak_ng_SetRandSeed", None)  # espeak-ng 1.52+

    @classmethod
    def get(cls, root: Path) -> Espeak:
        with _LOCK:
            if cls._instance is None:
                cls._instance = cls(root)
            return cls._instance

    def _collect(self, wav, n, _events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def synth(self, text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
        data = text.encode("utf-8")
        with _LOCK:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise InvalidInput(f"voice {voice!r} is not available in espeak-ng")
            self.lib.espeak_SetParameter(1, int(rate), 0)  # espeakRATE
            self.lib.espeak_SetParameter(3, int(pitch), 0)  # espeakPITCH
            # espeak-ng draws noise from its own generator: seeded per request, the same request gives the
            # same audio in a fresh process. (Its pitch flutter still runs on across calls, so a process
            # that synthesised something else first gets slightly different audio.)
            if self._seed is not None:
                self._seed(ctypes.c_long(zlib.crc32(f"{text}|{voice}|{rate}|{pitch}".encode())))
            self._chunks = []
            err = self.lib.espeak_Synth(ctypes.c_char_p(data), len(data) + 1, 0, 0, 0, 1, None, None)
            self.lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if err != 0:
            raise InvalidInput(f"espeak-ng could not synthesise the text (error {err})")
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return pcm.astype(np.float32) / 32768.0


@register_model
class EspeakTTS(Model[TtsInput, TtsOutput]):
    """Mandarin (``cmn``) and English (``en-us``) speech; ``voice`` picks an espeak-ng variant."""

    name: ClassVar[str] = "tts-espeak"
    input_type = TtsInput
    output_type = TtsOutput
    missing_hint = "install espeakng-loader (the library and voices ship inside its wheel)"

    def default_path(self) -> Path:
        return wheel_dir()

    def default_card(self, path: Path) -> ModelCard:
        return ModelCard(
            name=self.name, family="speech", task="tts", version="espeak-ng-1.52+espeakng-loader-0.2.4",
            backend="espeak-ng", licence=LICENCE, commercial_use=True,
            data_provenance="formant synthesis with espeak-ng's rule-based Mandarin (cmn) and English voices; "
                            "no recorded speech or learned weights",
            intended_use="read risk disclosures and questions aloud during video dual recording (双录)",
            preprocessing={"text": "Chinese numbers, dates, amounts and percentages written out in words",
                           "audio": "espeak-ng 22.05 kHz resampled to 16 kHz mono"},
            config=dict(self.config), weights=KNOWN_WEIGHTS + voice_files(path),
            limitations=["robotic formant voice: intelligible, not natural; customers may prefer a recorded "
                         "or neural voice", "polyphonic characters follow espeak-ng's dictionary"],
        )

    def load(self, path: str | Path) -> None:
        card = self.resolve_card(path)
        self.engine = Espeak.get(Path(path))
        self.card = card

    def predict(self, inp: TtsInput) -> TtsOutput:
        text = inp.text.strip()
        if not text:
            raise InvalidInput("text: empty")
        if len(text) > MAX_CHARS:
            raise InvalidInput(f"text: {len(text)} characters exceeds the limit of {MAX_CHARS}")
        if inp.lang not in LANG_VOICES:
            raise InvalidInput(f"lang {inp.lang!r}: expected one of {', '.join(LANG_VOICES)}")
        if inp.voice and inp.voice not in VARIANTS:
            raise InvalidInput(f"voice {inp.voice!r}: expected one of {', '.join(VARIANTS)} or empty")
        if not 80 <= inp.rate <= 400 or not 0 <= inp.pitch <= 99:
            raise InvalidInput("rate must be 80-400 words per minute and pitch 0-99")
        spoken = normalise(text) if inp.lang == "zh" else text
        voice = LANG_VOICES[inp.lang] + (f"+{inp.voice}" if inp.voice else "")
        t0 = time.perf_counter()
        audio = resample(self.engine.synth(spoken, voice, inp.rate, inp.pitch), self.engine.rate, RATE)
        ms = (time.perf_counter() - t0) * 1000
        duration = len(audio) / RATE
        return TtsOutput(audio=audio, sample_rate=RATE, duration_s=round(duration, 3), spoken_text=spoken,
                         evidence=Evidence(models=[ModelRef.of(self.card)], scores={"duration_s": round(duration, 3)},
                                           reasons=[f"{inp.lang} voice {voice}, rate {inp.rate}, pitch {inp.pitch}"],
                                           timings_ms={"synthesise": round(ms, 2)}))
