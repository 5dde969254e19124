"""Ray Serve deployments: thin wrappers that load models from the MLflow store and call ``predict``.

One deployment per family. Thresholds and batch size change at runtime through ``reconfigure``.
Errors come back as values from the batch handler so one bad image never fails its batch-mates.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import numpy as np
from ray import serve

from models.errors import InvalidInput
from models.face.frames import FrameSelector
from models.face.types import DetectInput, MatchInput, QualityInput
from models.liveness.challenges import ChallengeStore
from models.liveness.types import ActionInput, PassiveInput
from models.ocr.checks import masked_fields
from models.ocr.types import OcrInput
from models.speech.audio import decode_audio, encode_wav
from models.speech.confirm import confirm
from models.speech.sessions import SessionStore
from models.speech.types import AsrInput, TtsInput
from models.video import frames_from_images, sample_frames
from serving import store
from serving.config import FamilyConfig
from serving.monitoring import MonitorLog

log = logging.getLogger("ray.serve")  # Serve writes it to the replica logs


def _model_row(key: str, model, info: store.ModelVersionInfo, alias: str) -> dict[str, Any]:
    c = model.card
    return {"role": key, "name": info.registered, "model": c.name, "family": c.family, "task": c.task,
            "version": info.version, "card_version": c.version, "alias": alias, "backend": c.backend,
            "licence": c.licence, "commercial_use": c.commercial_use, "digest": c.digest,
            "thresholds": {k: t.model_dump() for k, t in c.thresholds.items()}}


class FamilyModels:
    """The models of one family, loaded from the store by role, with runtime threshold overrides."""

    def __init__(self, family: dict[str, Any], tracking_uri: str, home: str) -> None:
        os.environ["VERISERVE_HOME"] = home
        self.config = FamilyConfig.model_validate(family)
        client = store.configure(tracking_uri)
        self.models: dict[str, Any] = {}
        self.base_config: dict[str, dict[str, Any]] = {}
        self.rows: list[dict[str, Any]] = []
        self.versions: dict[str, tuple[str, str]] = {}
        self.monitor = MonitorLog()
        for key, spec in self.config.models.items():
            config = dict(spec.config)
            if key in self.config.thresholds:
                config["threshold"] = self.config.thresholds[key]
            model, info = store.load(client, spec.registered, spec.alias, **config)
            self.models[key] = model
            self.base_config[key] = dict(model.config)
            self.rows.append(_model_row(key, model, info, spec.alias))
            self.versions[key] = (info.registered, info.version)

    def observe(self, role: str, score_name: str, score: float | None, passed: bool) -> None:
        """Record a decision for drift monitoring (numbers only)."""
        registered, version = self.versions[role]
        self.monitor.record(registered, version, score_name, score, passed)

    def set_thresholds(self, thresholds: dict[str, float]) -> None:
        unknown = set(thresholds) - set(self.models)
        if unknown:
            raise ValueError(f"thresholds for unknown model roles: {sorted(unknown)}")
        for key, model in self.models.items():
            config = {k: v for k, v in self.base_config[key].items() if k != "threshold"}
            if key in thresholds:
                config["threshold"] = float(thresholds[key])
            model.config = config
        log.info("thresholds: %s", thresholds or "as on the model cards")

    def check_health(self) -> None:
        if not all(m.loaded for m in self.models.values()):
            raise RuntimeError("a model is not loaded")


async def timed(fn, *args, **kwargs) -> tuple[Any, float]:
    """Run ``fn`` off the event loop; return its result and the CPU milliseconds its thread used (what the
    workflow's cost model charges per call)."""

    def run():
        t0 = time.thread_time()
        out = fn(*args, **kwargs)
        return out, round((time.thread_time() - t0) * 1000, 3)

    return await asyncio.to_thread(run)


class FamilyService:
    """What every family deployment shares: runtime thresholds, health, and its rows for /v1/models."""

    family: FamilyModels

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        self.family.set_thresholds(user_config.get("thresholds") or {})

    def check_health(self) -> None:
        self.family.check_health()

    def model_rows(self) -> list[dict[str, Any]]:
        return self.family.rows


@serve.deployment(name="face")
class FaceService(FamilyService):
    """Face detection and 1:1 match, from ``models:/face-detect@champion`` and ``face-match``."""

    def __init__(self, family: dict[str, Any], tracking_uri: str, home: str) -> None:
        cfg = self.family = FamilyModels(family, tracking_uri, home)
        self.models = cfg.models
        frames = cfg.config.options.get("frames", {})
        self.frame_options = {"sample_fps": float(frames.get("sample_fps", 5.0)),
                              "max_frames": int(frames.get("max_frames", 120)),
                              "max_bytes": int(frames.get("max_video_bytes", 50 * 1024 * 1024))}
        quality = self.models.get("quality")
        self.selector = FrameSelector(quality, frames.get("weights")) if quality else None
        self._detect_batch.set_max_batch_size(cfg.config.max_batch_size)
        self._detect_batch.set_batch_wait_timeout_s(cfg.config.batch_wait_timeout_s)

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        """``{"thresholds": {"match": 0.93}, "max_batch_size": 8}`` — applied without a restart.
        A model left out of ``thresholds`` goes back to the threshold on its card."""
        self.family.set_thresholds(user_config.get("thresholds") or {})
        if "max_batch_size" in user_config:
            self._detect_batch.set_max_batch_size(int(user_config["max_batch_size"]))

    @serve.batch(max_batch_size=4, batch_wait_timeout_s=0.005)
    async def _detect_batch(self, images: list[np.ndarray]) -> list[tuple[str, Any]]:
        def run() -> list[tuple[str, Any]]:
            out = []
            for image in images:
                try:
                    out.append(("ok", self.models["detect"].predict(DetectInput(image=image)).model_dump(mode="json")))
                except Exception as exc:  # returned, re-raised for this caller only
                    out.append(("error", exc))
            return out

        return await asyncio.to_thread(run)

    async def detect(self, image: np.ndarray) -> dict[str, Any]:
        status, value = await self._detect_batch(image)
        if status == "error":
            raise value
        return value

    async def quality(self, image: np.ndarray, guide_box: tuple | None = None) -> dict[str, Any]:
        inp = QualityInput(image=image, guide_box=guide_box)
        result, cpu_ms = await timed(self.models["quality"].predict, inp)
        self.family.observe("quality", "quality", result.score, result.passed)
        return result.model_dump(mode="json") | {"cpu_ms": cpu_ms}

    async def select_frames(self, video: bytes | None, images: list[np.ndarray] | None, k: int) -> dict[str, Any]:
        """Decode (video) or take (images) the frames, then rank them; decoding runs off the event loop."""

        def run() -> dict[str, Any]:
            if video is not None:
                frames = sample_frames(video, **self.frame_options)
            else:
                frames = frames_from_images(images or [], fps=self.frame_options["sample_fps"])
            return self.selector.select(frames, k=k).model_dump(mode="json")

        return await asyncio.to_thread(run)

    async def match(self, id_image: np.ndarray, live_image: np.ndarray) -> dict[str, Any]:
        inp = MatchInput(id_image=id_image, live_image=live_image)
        result, cpu_ms = await timed(self.models["match"].predict, inp)
        self.family.observe("match", "similarity", result.similarity, result.match)
        return result.model_dump(mode="json") | {"cpu_ms": cpu_ms}


@serve.deployment(name="liveness")
class LivenessService(FamilyService):
    """Passive liveness (``models:/liveness-passive@champion``) and challenge-response action liveness
    (``liveness-action``), with single-use challenges kept in ``$VERISERVE_HOME/challenges.db``."""

    def __init__(self, family: dict[str, Any], tracking_uri: str, home: str) -> None:
        self.family = FamilyModels(family, tracking_uri, home)
        options = self.family.config.options
        self.challenges = ChallengeStore(ttl_s=float(options.get("challenge_ttl_s", 60.0)))
        self.video_options = {"sample_fps": float(options.get("sample_fps", 10.0)),
                              "max_frames": int(options.get("max_frames", 150))}

    def challenge(self, n_actions: int | None = None) -> dict[str, Any]:
        return self.challenges.issue(n_actions)

    async def action(self, challenge_id: str, video: bytes | None, images: list[np.ndarray] | None) -> dict[str, Any]:
        """Redeem the challenge (single use, even if the video then turns out unusable), then verify."""
        actions = self.challenges.redeem(challenge_id)

        def run() -> dict[str, Any]:
            if video is not None:
                frames = sample_frames(video, **self.video_options)
            else:
                frames = frames_from_images(images or [], fps=self.video_options["sample_fps"])
            inp = ActionInput(images=[f for _, _, f in frames], timestamps_ms=[t for _, t, _ in frames],
                              actions=actions)
            out = self.family.models["action"].predict(inp).model_dump(mode="json")
            out["challenge_id"] = challenge_id
            out["frame_indices"] = [i for i, _, _ in frames]
            return out

        return await asyncio.to_thread(run)

    async def passive(self, images: list[np.ndarray]) -> dict[str, Any]:
        result, cpu_ms = await timed(self.family.models["passive"].predict, PassiveInput(images=images))
        self.family.observe("passive", "live", result.score, result.live)
        return result.model_dump(mode="json") | {"cpu_ms": cpu_ms}


@serve.deployment(name="ocr")
class OcrService(FamilyService):
    """Document OCR (``models:/ocr@champion``): localise, orient, read, parse and check fields."""

    def __init__(self, family: dict[str, Any], tracking_uri: str, home: str) -> None:
        self.family = FamilyModels(family, tracking_uri, home)

    async def read(self, image: np.ndarray, doc_type: str) -> dict[str, Any]:
        result, cpu_ms = await timed(self.family.models["ocr"].predict, OcrInput(image=image, doc_type=doc_type))
        # numbers are masked in the log (4201**********1234); the response carries them in full
        log.info("ocr %s fields=%s warnings=%d", result.doc_type, masked_fields(result.fields),
                 len(result.checks.warnings))
        if result.fields:
            valid = sum(f.valid for f in result.fields.values()) / len(result.fields)
            self.family.observe("ocr", "field_valid_rate", valid, valid == 1.0)
        return result.model_dump(mode="json") | {"cpu_ms": cpu_ms}


@serve.deployment(name="speech")
class SpeechService(FamilyService):
    """TTS (``models:/tts@champion``), ASR (``asr-zh``, ``asr-en``), answer confirmation and dual-recording
    sessions (``$VERISERVE_HOME/speech_sessions.db``). Audio bytes are never logged; only their SM3 digest
    is kept, in the session record."""

    def __init__(self, family: dict[str, Any], tracking_uri: str, home: str) -> None:
        self.family = FamilyModels(family, tracking_uri, home)
        options = self.family.config.options
        self.limits = {"max_seconds": float(options.get("max_audio_seconds", 120)),
                       "min_seconds": float(options.get("min_audio_seconds", 0.2))}
        self.min_confidence = float(options.get("min_confidence", 0.5))
        self.min_match = float(options.get("min_match", 0.8))
        self.sessions = SessionStore()
        m = self.family.models
        self.recognisers = {"zh": m["asr_zh"], "en": m["asr_en"]}

    def _audio(self, data: bytes, raw_rate: int | None, raw_width: int) -> np.ndarray:
        return decode_audio(data, raw_rate=raw_rate, raw_width=raw_width, **self.limits)

    async def tts(self, text: str, lang: str, voice: str, rate: int, pitch: int) -> tuple[bytes, dict[str, Any]]:
        def run():
            out = self.family.models["tts"].predict(TtsInput(text=text, lang=lang, voice=voice, rate=rate, pitch=pitch))
            return encode_wav(out.audio, out.sample_rate), {"duration_s": out.duration_s,
                                                            "model": out.evidence.models[0].model_dump()}

        return await asyncio.to_thread(run)

    async def asr(self, data: bytes, lang: str, mode: str, phrases: list[str], raw_rate: int | None,
                  raw_width: int) -> dict[str, Any]:
        if lang not in self.recognisers:
            raise InvalidInput(f"lang {lang!r}: expected zh or en")

        def run():
            audio = self._audio(data, raw_rate, raw_width)
            out = self.recognisers[lang].predict(AsrInput(audio=audio, mode=mode, phrases=phrases))
            return out.model_dump(mode="json")

        return await asyncio.to_thread(run)

    def _confirm(self, data: bytes, raw_rate, raw_width, **kwargs) -> dict[str, Any]:
        audio = self._audio(data, raw_rate, raw_width)
        out = confirm(self.recognisers, audio, min_confidence=self.min_confidence, min_match=self.min_match, **kwargs)
        return out.model_dump(mode="json")

    async def confirm(self, data: bytes, raw_rate: int | None, raw_width: int, **kwargs) -> dict[str, Any]:
        return await asyncio.to_thread(self._confirm, data, raw_rate, raw_width, **kwargs)

    def create_session(self, questions: Any, lang: str) -> dict[str, Any]:
        if lang not in self.recognisers:
            raise InvalidInput(f"lang {lang!r}: expected zh or en")
        return self.sessions.create(questions, lang)

    async def prompt(self, session_id: str, question_id: str, voice: str, rate: int) -> tuple[bytes, dict[str, Any]]:
        q, lang = self.sessions.question(session_id, question_id)
        return await self.tts(q["text"], lang, voice, rate, 50)

    async def answer(self, session_id: str, question_id: str, data: bytes, raw_rate: int | None,
                     raw_width: int) -> dict[str, Any]:
        q, lang = self.sessions.question(session_id, question_id)
        result = await asyncio.to_thread(self._confirm, data, raw_rate, raw_width, mode=q["kind"], lang=lang,
                                         expected_text=q["expected_text"], question=q["text"])
        keep = {k: result[k] for k in ("mode", "transcript", "intent", "match_ratio", "passed", "reason")}
        keep["models"] = [m["name"] + "@" + m["version"] for m in result["evidence"]["models"]]
        stored = self.sessions.record_answer(session_id, question_id, data, keep)
        log.info("dual recording %s/%s: %s", session_id[:6], question_id, "passed" if keep["passed"] else "not passed")
        return {**result, **stored, "question_id": question_id}

    def session_record(self, session_id: str) -> dict[str, Any]:
        return self.sessions.record(session_id)
