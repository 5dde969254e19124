"""The HTTP ingress: FastAPI routes under ``/v1`` that validate input and call family deployments."""

import asyncio
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from ray import serve
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.errors import InvalidInput, VeriserveError
from models.imageio import decode_image
from models.ocr.types import DOC_TYPES
from serving.config import HttpConfig
from serving.errors import error_body, status_for, unwrap
from serving.inputs import read_files

log = logging.getLogger("veriserve.http")

app = FastAPI(
    title="Veriserve",
    version="0.1.0",
    description="AI verification for remote account opening: face, liveness, OCR, speech — with evidence.",
)


def _image_body(*fields: str) -> dict:
    props_file = {f: {"type": "string", "format": "binary"} for f in fields}
    props_json = {f"{f}_b64": {"type": "string", "description": "base64-encoded image"} for f in fields}
    return {"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": props_file, "required": list(fields)}},
        "application/json": {"schema": {"type": "object", "properties": props_json,
                                        "required": list(props_json)}},
    }}}


def _form_body(files: dict[str, str], values: dict[str, dict]) -> dict:
    """openapi_extra for endpoints with file fields (multipart) or ``*_b64`` fields (JSON) plus values."""
    multipart = {**{f: {"type": "string", "format": "binary", "description": d} for f, d in files.items()},
                 **values}
    as_json = {**{f"{f}_b64": {"type": "string", "description": f"base64 of {f}: {d}"} for f, d in files.items()},
               **values}
    return {"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": multipart}},
        "application/json": {"schema": {"type": "object", "properties": as_json}},
    }}}


def parse_guide_box(value: Any, width: int, height: int) -> tuple[float, float, float, float] | None:
    """``guide_box`` as a JSON list or "x1,y1,x2,y2" text; must lie inside the image."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else [float(v) for v in text.split(",")]
        except ValueError as exc:
            raise InvalidInput("guide_box: expected four numbers x1,y1,x2,y2") from exc
    if not isinstance(value, list) or len(value) != 4 or not all(isinstance(v, (int, float)) for v in value):
        raise InvalidInput("guide_box: expected four numbers x1,y1,x2,y2")
    x1, y1, x2, y2 = (float(v) for v in value)
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise InvalidInput(f"guide_box {value} must lie inside the {width}x{height} image")
    return (x1, y1, x2, y2)


def parse_k(value: Any, default: int = 3) -> int:
    if value is None or value == "":
        return default
    try:
        k = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("k: expected an integer between 1 and 10") from exc
    if not 1 <= k <= 10:
        raise InvalidInput("k: expected an integer between 1 and 10")
    return k


def _rid(request: Request) -> str:
    return getattr(request.state, "request_id", "") or uuid.uuid4().hex


@app.middleware("http")
async def request_context(request: Request, call_next):
    """Request id (Serve's x-request-id), body-size limit, one log line per request (never a body)."""
    request.state.request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
    t0 = time.perf_counter()
    limit = request.app.state.http.max_body_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        response = JSONResponse(error_body("payload_too_large", f"request body of {length} bytes exceeds "
                                           f"the limit of {limit} bytes", request.state.request_id), 413)
    else:
        response = await call_next(request)
    # Ray Serve's proxy puts the same id in the x-request-id response header
    log.info("%s %s %s %.1fms rid=%s", request.method, request.url.path, response.status_code,
             (time.perf_counter() - t0) * 1000, request.state.request_id)
    return response


async def call(method, *args: Any, **kwargs: Any) -> Any:
    """Await a deployment call, re-raising the deployment's own exception rather than Ray's wrapper."""
    try:
        return await method.remote(*args, **kwargs)
    except Exception as exc:
        original = unwrap(exc)
        if isinstance(original, VeriserveError):
            raise original from None
        raise


@app.exception_handler(VeriserveError)
@app.exception_handler(Exception)
async def any_error(request: Request, exc: Exception) -> JSONResponse:
    status, code, message = status_for(exc)
    if status >= 500:
        log.error("rid=%s %s: %s", _rid(request), type(exc).__name__, exc)
    return JSONResponse(error_body(code, message, _rid(request)), status_code=status)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
    return JSONResponse(error_body("invalid_input", f"invalid request: {fields}", _rid(request)), 400)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail), _rid(request)), exc.status_code)


@serve.deployment(name="ingress", ray_actor_options={"num_cpus": 0})
@serve.ingress(app)
class Ingress:
    """Routes requests to the family deployments passed in as handles."""

    def __init__(self, face, liveness, ocr, speech, http: dict[str, Any]) -> None:
        self.face = face
        self.liveness = liveness
        self.ocr = ocr
        self.speech = speech
        self.http = HttpConfig.model_validate(http)
        app.state.http = self.http

    async def _decode_all(self, blobs: list[bytes], field: str, single: bool = False) -> list:
        """Decode uploaded images off the event loop; errors name ``field`` (``field[i]`` for lists)."""
        return [await asyncio.to_thread(decode_image, data, field=field if single else f"{field}[{i}]",
                                        max_bytes=self.http.max_image_bytes, max_pixels=self.http.max_image_pixels)
                for i, data in enumerate(blobs)]

    async def _images(self, request: Request, *fields: str) -> tuple[dict[str, Any], dict[str, Any]]:
        files, params = await read_files(request, list(fields), max_file_bytes=self.http.max_image_bytes)
        return {name: (await self._decode_all([files[name]], name, single=True))[0] for name in fields}, params

    @app.get("/healthz")
    async def healthz(self) -> JSONResponse:
        checks = {}
        for name, handle in {"face": self.face, "liveness": self.liveness, "ocr": self.ocr,
                             "speech": self.speech}.items():
            try:
                await asyncio.wait_for(handle.model_rows.remote(), timeout=5)
                checks[name] = "ok"
            except Exception as exc:  # a failed or slow deployment is reported, not raised
                checks[name] = f"unavailable: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "degraded", "deployments": checks}, 200 if ok else 503)

    @app.get("/v1/models")
    async def models(self, request: Request) -> dict:
        rows = (await call(self.face.model_rows) + await call(self.liveness.model_rows)
                + await call(self.ocr.model_rows) + await call(self.speech.model_rows))
        return {"request_id": _rid(request), "models": rows}

    @app.post("/v1/face/detect", openapi_extra=_image_body("image"))
    async def face_detect(self, request: Request) -> dict:
        images, _ = await self._images(request, "image")
        result = await call(self.face.detect, images["image"])
        return {"request_id": _rid(request), **result}

    @app.post("/v1/face/quality", openapi_extra=_form_body(
        {"image": "the photo to check"},
        {"guide_box": {"type": "string", "description": "x1,y1,x2,y2 px of the on-screen guide (optional)"}}))
    async def face_quality(self, request: Request) -> dict:
        images, params = await self._images(request, "image")
        h, w = images["image"].shape[:2]
        guide = parse_guide_box(params.get("guide_box"), w, h)
        result = await call(self.face.quality, images["image"], guide)
        return {"request_id": _rid(request), **result}

    @app.post("/v1/face/select-frames", openapi_extra=_form_body(
        {"video": "mp4 / webm / avi clip"},
        {"images": {"type": "array", "items": {"type": "string", "format": "binary"},
                    "description": "frames as images, instead of a video (JSON: images_b64 list)"},
         "k": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3}}))
    async def face_select_frames(self, request: Request) -> dict:
        files, params = await read_files(request, [], optional=("video",), multi=("images",),
                                         one_of=("video", "images"), max_file_bytes=self.http.max_video_bytes)
        k = parse_k(params.get("k"))
        images = None if "video" in files else await self._decode_all(files["images"], "images")
        result = await call(self.face.select_frames, files.get("video"), images, k)
        return {"request_id": _rid(request), **result}

    @app.post("/v1/liveness/challenge")
    async def liveness_challenge(self, request: Request) -> dict:
        """A single-use random sequence of 2–3 actions to perform on camera, valid for a short time."""
        n = None
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError as exc:
                raise InvalidInput("request body is not valid JSON", code="invalid_json") from exc
            n = body.get("n_actions") if isinstance(body, dict) else None
            if n is not None and (not isinstance(n, int) or not 1 <= n <= 5):
                raise InvalidInput("n_actions: expected an integer between 1 and 5")
        c = await call(self.liveness.challenge, n)
        return {"request_id": _rid(request), "challenge_id": c["challenge_id"], "actions": c["actions"],
                "expires_at": datetime.fromtimestamp(c["expires_at"], UTC).isoformat(timespec="seconds"),
                "ttl_s": round(c["expires_at"] - c["issued_at"], 1)}

    @app.post("/v1/liveness/action", openapi_extra=_form_body(
        {"video": "mp4 / webm / avi clip of the customer performing the actions"},
        {"challenge_id": {"type": "string"},
         "images": {"type": "array", "items": {"type": "string", "format": "binary"},
                    "description": "frames instead of a video (JSON: images_b64 list)"}}))
    async def liveness_action(self, request: Request) -> dict:
        files, params = await read_files(request, [], optional=("video",), multi=("images",),
                                         one_of=("video", "images"), max_file_bytes=self.http.max_video_bytes)
        challenge_id = params.get("challenge_id")
        if not isinstance(challenge_id, str) or not challenge_id:
            raise InvalidInput("challenge_id: required (from POST /v1/liveness/challenge)")
        images = None if "video" in files else await self._decode_all(files["images"], "images")
        result = await call(self.liveness.action, challenge_id, files.get("video"), images)
        return {"request_id": _rid(request), **result}

    @app.post("/v1/liveness/passive", openapi_extra=_form_body(
        {"image": "one selfie"},
        {"images": {"type": "array", "items": {"type": "string", "format": "binary"},
                    "description": "or up to 16 frames of one capture (JSON: images_b64 list)"}}))
    async def liveness_passive(self, request: Request) -> dict:
        files, _ = await read_files(request, [], optional=("image",), multi=("images",), one_of=("image", "images"),
                                    max_file_bytes=self.http.max_image_bytes)
        if "image" in files:
            images = await self._decode_all([files["image"]], "image", single=True)
        else:
            images = await self._decode_all(files["images"], "images")
        result = await call(self.liveness.passive, images)
        return {"request_id": _rid(request), **result}

    @app.post("/v1/face/match", openapi_extra=_image_body("id_image", "live_image"))
    async def face_match(self, request: Request) -> dict:
        images, _ = await self._images(request, "id_image", "live_image")
        result = await call(self.face.match, images["id_image"], images["live_image"])
        return {"request_id": _rid(request), **result}

    @app.post("/v1/ocr/{doc_type}", openapi_extra=_image_body("image"))
    async def ocr(self, doc_type: str, request: Request) -> dict:
        """Fields of one document photo or scan: ``doc_type`` is one of API.md's types, or ``auto``."""
        if doc_type != "auto" and doc_type not in DOC_TYPES:
            raise InvalidInput(f"unknown doc_type {doc_type!r}; expected auto or one of {', '.join(DOC_TYPES)}",
                               code="unknown_doc_type")
        images, _ = await self._images(request, "image")
        result = await call(self.ocr.read, images["image"], doc_type)
        return {"request_id": _rid(request), **result}

    async def _json(self, request: Request) -> dict[str, Any]:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise InvalidInput("send application/json")
        try:
            body = json.loads(await request.body() or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("request body is not valid JSON", code="invalid_json") from exc
        if not isinstance(body, dict):
            raise InvalidInput("JSON body must be an object", code="invalid_json")
        return body

    async def _audio(self, request: Request) -> tuple[bytes, dict[str, Any], int | None, int]:
        files, params = await read_files(request, ["audio"], max_file_bytes=self.http.max_audio_bytes)
        rate, width = params.get("sample_rate"), params.get("sample_width", 2)
        try:
            rate = int(rate) if rate not in (None, "") else None
            width = int(width)
        except (TypeError, ValueError) as exc:
            raise InvalidInput("sample_rate and sample_width must be integers (raw PCM only)") from exc
        return files["audio"], params, rate, width

    @app.post("/v1/speech/tts", response_class=Response, responses={200: {"content": {"audio/wav": {}}}},
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["text"], "properties": {
                      "text": {"type": "string"}, "lang": {"type": "string", "enum": ["zh", "en"], "default": "zh"},
                      "voice": {"type": "string", "description": "m1-m7, f1-f5"},
                      "rate": {"type": "integer", "default": 160}, "pitch": {"type": "integer", "default": 50}}}}}}})
    async def speech_tts(self, request: Request) -> Response:
        """16 kHz mono WAV of ``text`` (Mandarin numbers, dates and amounts read out in words)."""
        body = await self._json(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise InvalidInput("text: required string")
        try:
            rate, pitch = int(body.get("rate", 160)), int(body.get("pitch", 50))
        except (TypeError, ValueError) as exc:
            raise InvalidInput("rate and pitch must be integers") from exc
        wav, meta = await call(self.speech.tts, text, str(body.get("lang", "zh")), str(body.get("voice", "")),
                               rate, pitch)
        model = meta["model"]
        return Response(wav, media_type="audio/wav", headers={
            "x-veriserve-model": f"{model['name']}@{model['version']}", "x-veriserve-weights": model["weights_digest"],
            "x-audio-duration-s": str(meta["duration_s"])})

    @app.post("/v1/speech/asr", openapi_extra=_form_body(
        {"audio": "WAV, FLAC, OGG, MP3 or raw PCM (with sample_rate)"},
        {"lang": {"type": "string", "enum": ["zh", "en"], "default": "zh"},
         "mode": {"type": "string", "enum": ["open", "grammar", "keywords"], "default": "open"},
         "phrases": {"type": "string", "description": "JSON list of allowed answers (grammar / keywords)"},
         "sample_rate": {"type": "integer", "description": "raw PCM only"},
         "sample_width": {"type": "integer", "description": "raw PCM bytes per sample: 1, 2 or 4"}}))
    async def speech_asr(self, request: Request) -> dict:
        data, params, rate, width = await self._audio(request)
        phrases = params.get("phrases") or []
        if isinstance(phrases, str):
            try:
                phrases = json.loads(phrases)
            except ValueError as exc:
                raise InvalidInput("phrases: expected a JSON list of strings") from exc
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise InvalidInput("phrases: expected a list of strings")
        result = await call(self.speech.asr, data, str(params.get("lang", "zh")), str(params.get("mode", "open")),
                            phrases, rate, width)
        return {"request_id": _rid(request), **result}

    @app.post("/v1/speech/confirm", openapi_extra=_form_body(
        {"audio": "the customer's answer"},
        {"mode": {"type": "string", "enum": ["intent", "read_aloud"]}, "lang": {"type": "string", "default": "zh"},
         "question": {"type": "string"}, "expected_text": {"type": "string"},
         "sample_rate": {"type": "integer"}, "sample_width": {"type": "integer"}}))
    async def speech_confirm(self, request: Request) -> dict:
        data, params, rate, width = await self._audio(request)
        result = await call(self.speech.confirm, data, rate, width, mode=str(params.get("mode", "intent")),
                            lang=str(params.get("lang", "zh")), expected_text=str(params.get("expected_text", "")),
                            question=str(params.get("question", "")))
        return {"request_id": _rid(request), **result}

    @app.post("/v1/speech/sessions")
    async def speech_session(self, request: Request) -> dict:
        """Start a dual recording: ``{"lang": "zh", "questions": [{"id", "text", "kind", "expected_text"}]}``."""
        body = await self._json(request)
        created = await call(self.speech.create_session, body.get("questions"), str(body.get("lang", "zh")))
        sid = created["session_id"]
        for q in created["questions"]:
            q["prompt_url"] = f"/v1/speech/sessions/{sid}/prompts/{q['id']}"
            q["answer_url"] = f"/v1/speech/sessions/{sid}/answers/{q['id']}"
        return {"request_id": _rid(request), **created}

    @app.get("/v1/speech/sessions/{session_id}/prompts/{question_id}", response_class=Response)
    async def speech_prompt(self, session_id: str, question_id: str, voice: str = "", rate: int = 160) -> Response:
        wav, meta = await call(self.speech.prompt, session_id, question_id, voice, rate)
        return Response(wav, media_type="audio/wav", headers={"x-audio-duration-s": str(meta["duration_s"])})

    @app.post("/v1/speech/sessions/{session_id}/answers/{question_id}",
              openapi_extra=_form_body({"audio": "the answer to this question"}, {}))
    async def speech_answer(self, session_id: str, question_id: str, request: Request) -> dict:
        data, _, rate, width = await self._audio(request)
        result = await call(self.speech.answer, session_id, question_id, data, rate, width)
        return {"request_id": _rid(request), **result}

    @app.get("/v1/speech/sessions/{session_id}")
    async def speech_record(self, session_id: str, request: Request) -> dict:
        """The session record with the SM3 digest of every answer clip and of the record itself."""
        return {"request_id": _rid(request), **(await call(self.speech.session_record, session_id))}

