"""The ``veriserve`` command line (API.md). Every command has ``--help``; ``--json`` gives machine output."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.errors import InvalidInput, VeriserveError
from workflow.errors import WorkflowError

# what the commands report as a clear error (code + message) instead of a traceback
Failure = (VeriserveError, WorkflowError)

app = typer.Typer(help="Veriserve: AI verification model serving.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
models_app = typer.Typer(help="The MLflow model store: register, list, promote.", no_args_is_help=True)
predict_app = typer.Typer(help="Run a model in-process (no Ray) on local files.", no_args_is_help=True)
evaluate_app = typer.Typer(help="Evaluate models and log the results to MLflow.", no_args_is_help=True)
train_app = typer.Typer(help="Train models, log the runs to MLflow and register them.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(models_app, name="models")
app.add_typer(predict_app, name="predict")
app.add_typer(evaluate_app, name="evaluate")

# Pipes and CI get a wide console so tables are not squeezed to 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
UriOpt = Annotated[str | None, typer.Option("--tracking-uri", envvar="MLFLOW_TRACKING_URI",
                                            help="MLflow tracking URI (default: sqlite under ./var).")]


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("alembic", "mlflow", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(exc: VeriserveError | WorkflowError, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps({"error": {"code": exc.code, "message": exc.message}}))
    else:
        err.print(f"[red]error[/red] ({exc.code}): {exc.message}")
    raise typer.Exit(2)


@app.command()
def serve(
    config: Annotated[Path | None, typer.Option(help="Serving config YAML (default: serving/config.yaml).")] = None,
    host: Annotated[str | None, typer.Option(help="Override http.host.")] = None,
    port: Annotated[int | None, typer.Option(help="Override http.port.")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster address (e.g. ray://head:10001).",
                                                envvar="RAY_ADDRESS")] = None,
    tracking_uri: UriOpt = None,
) -> None:
    """Start Ray Serve with every family deployment; stays in the foreground until Ctrl-C."""
    from serving import app as serving_app
    from serving.config import load_config

    _setup_logging()
    try:
        cfg = load_config(config)
    except VeriserveError as exc:
        _fail(exc, False)
    if host:
        cfg.http.host = host
    if port:
        cfg.http.port = port
    if address:
        cfg.ray.address = address
    if tracking_uri:
        cfg.mlflow.tracking_uri = tracking_uri
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        serving_app.preflight(cfg)
    except VeriserveError as exc:
        _fail(exc, False)
    try:
        with console.status("starting Ray and deploying models…"):
            serving_app.start(cfg)
        console.print(f"Veriserve is serving on [bold]http://{cfg.http.host}:{cfg.http.port}[/bold] "
                      f"(OpenAPI: /docs). Ctrl-C stops it.")
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping Veriserve…")
        serving_app.stop()


@models_app.command("bootstrap")
def models_bootstrap(tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Register the embedded default models and give each the alias ``champion`` (idempotent)."""
    from rich.progress import Progress

    from serving import store
    from training.bootstrap import EMBEDDED_DEFAULTS, bootstrap

    _setup_logging()
    client = store.configure(tracking_uri)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("registering", total=len(EMBEDDED_DEFAULTS) + 2)
        results = bootstrap(client, progress=lambda name: bar.update(task, advance=1, description=name))
    if as_json:
        console.print_json(json.dumps([r.__dict__ for r in results]))
        return
    for r in results:
        state = "registered" if r.created else "already registered"
        console.print(f"{r.registered} v{r.version}: {state}")
    console.print(f"store: {store.tracking_uri(tracking_uri)}")


@models_app.command("list")
def models_list(name: Annotated[str | None, typer.Argument(help="Only this registered model.")] = None,
                tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Registered versions: name, version, alias, backend, licence."""
    from serving import store

    try:
        rows = [v.row() for v in store.list_versions(store.configure(tracking_uri), name)]
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("name", "version", "alias", "model", "backend", "commercial use", "digest")
    for r in rows:
        table.add_row(r["name"], r["version"], r["alias"], r["model"], r["backend"],
                      "yes" if r["commercial_use"] else "no (see licence)", r["digest"][:12])
    console.print(table)
    console.print("licences: 'veriserve models list --json' or the model card (card.json) of each version")


@models_app.command("promote")
def models_promote(
    name: Annotated[str, typer.Argument(help="Registered model, e.g. face-match.")],
    version: Annotated[str, typer.Argument(help="Version number to point the alias at.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the alias history).")],
    alias: Annotated[str, typer.Option(help="Alias to move.")] = "champion",
    force: Annotated[bool, typer.Option(help="Promote although the gate refuses; the override and the "
                                             "refused checks are recorded.")] = False,
    policy: Annotated[Path | None, typer.Option(help="Promotion policy YAML (default evaluation/policy.yaml).")]
    = None,
    user: Annotated[str | None, typer.Option(help="Who (default: the OS user).")] = None,
    tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Point an alias (default ``champion``) at a version through the promotion gate: the version needs its
    AI-risk report and must meet the policy; who, when and why are recorded."""
    from mlflow.exceptions import MlflowException

    from evaluation import gate
    from evaluation.policy import load_policy
    from serving import store

    try:
        event = gate.promote(store.configure(tracking_uri), name, version, alias=alias, reason=reason, user=user,
                             force=force, policy=load_policy(policy))
    except gate.PromotionRefused as exc:
        if as_json:
            console.print_json(json.dumps({"error": {"code": exc.code, "message": exc.message,
                                                     "reasons": exc.reasons}}))
        else:
            err.print(f"[red]refused[/red]: {name} v{version} may not become {alias}:")
            for r in exc.reasons:
                err.print(f"  - {r}")
            err.print("fix these, or override with --force --reason '…' (the override is recorded)")
        raise typer.Exit(2) from None
    except VeriserveError as exc:
        _fail(exc, as_json)
    except MlflowException as exc:
        _fail(VeriserveError(f"cannot promote {name} v{version}: {exc.message}", code="unknown_model"), as_json)
    if as_json:
        console.print_json(json.dumps(event))
        return
    console.print(f"{name}@{alias} -> v{event['version']} (was {event['previous']})"
                  + (f" [yellow]FORCED over {len(event['overridden'])} refused check(s)[/yellow]" if event["forced"]
                     else ""))


@models_app.command("history")
def models_history(name: Annotated[str, typer.Argument(help="Registered model.")],
                   at: Annotated[str | None, typer.Option(help="Which version the alias pointed at, at this time "
                                                                "(ISO 8601, e.g. 2026-12-04T10:00:00Z).")] = None,
                   alias: Annotated[str, typer.Option(help="Alias for --at.")] = "champion",
                   tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Every alias change of a registered model (who, when, why, forced), checked against its SM3 chain;
    with ``--at``, the version that was live then."""
    from mlflow.exceptions import MlflowException

    from serving import store

    try:
        client = store.configure(tracking_uri)
        events = store.alias_history(client, name)
        problems = store.verify_history(client, name)
        if at is not None:
            try:
                live = store.alias_at(client, name, at.replace("Z", "+00:00"), alias)
            except ValueError as exc:
                raise InvalidInput(f"--at {at!r}: not an ISO 8601 time ({exc})") from exc
    except MlflowException as exc:
        _fail(VeriserveError(f"no registered model {name!r}: {exc.message}", code="unknown_model"), as_json)
    except VeriserveError as exc:
        _fail(exc, as_json)
    if at is not None:
        out = {"name": name, "alias": alias, "at": at, "version": live and live["version"], "event": live,
               "history_problems": problems}
        if as_json:
            console.print_json(json.dumps(out))
        elif live:
            console.print(f"{name}@{alias} at {at}: v{live['version']} (since {live['at']}, by {live['user']}: "
                          f"{live['reason']})")
        else:
            console.print(f"{name}@{alias} at {at}: no version (the alias was first set later)")
        return
    if as_json:
        console.print_json(json.dumps({"events": events, "history_problems": problems}))
        return
    table = Table("at", "alias", "version", "previous", "user", "reason", "forced")
    for e in events:
        table.add_row(e["at"], e["alias"], e["version"], str(e["previous"]), e["user"], e["reason"],
                      "yes" if e.get("forced") else "")
    console.print(table)
    for p in problems:
        err.print(f"[red]history tampered[/red]: {p}")


DEFAULT_MODELS = {"face-detect": "face-detect-dlib", "face-match": "face-match-dlib",
                  "face-quality": "face-quality-dlib", "liveness-passive": "liveness-passive-texture",
                  "ocr": "ocr-rapidocr"}


def _load_local(kind: str, model: str | None, from_store: bool, tracking_uri: str | None):
    """The model for a task: from the MLflow store (``--store``), else the registry default or ``--model``
    on its default weights (for trained models: ``$VERISERVE_HOME/trained/<name>``)."""
    from models.registry import create_model

    if from_store:
        from serving import store

        return store.load(store.configure(tracking_uri), kind)[0]
    return create_model(model or DEFAULT_MODELS[kind])


def _read_image(path: Path, field: str):
    from models.errors import InvalidImage
    from models.imageio import decode_image

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidImage(f"{field}: cannot read {path}: {exc.strerror}") from exc
    return decode_image(data, field=field)


ModelOpt = Annotated[str | None, typer.Option("--model", help="Registry model name (default: the dlib one).")]
StoreOpt = Annotated[bool, typer.Option("--store", help="Load models:/<task>@champion from MLflow instead.")]
VersionOpt = Annotated[str | None, typer.Option(
    "--version", help="Registered version (N, @ALIAS) to assess: logs its risk evidence for 'veriserve report'.")]


@predict_app.command("face-detect")
def predict_face_detect(image: Path, model: ModelOpt = None, from_store: StoreOpt = False,
                        tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Detect faces (box, confidence, landmarks) in IMAGE."""
    from models.face.types import DetectInput

    try:
        m = _load_local("face-detect", model, from_store, tracking_uri)
        out = m.predict(DetectInput(image=_read_image(image, "image")))
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(out.model_dump_json())
        return
    console.print(f"{len(out.faces)} face(s) in {image.name} ({out.image_width}x{out.image_height} px), "
                  f"{out.evidence.timings_ms['detect']:.0f} ms, model {m.card.name}")
    for i, f in enumerate(out.faces):
        console.print(f"  #{i}: box {[round(v) for v in f.box]} score {f.score:.2f} "
                      f"{len(f.landmarks)} landmarks ({f.landmark_scheme})")


DOC_TYPE_HELP = ("id_card_front, id_card_back, bank_card, business_licence, passport, hk_macau_permit, "
                 "household_register, driving_licence, vehicle_licence, vat_invoice, bank_bill or auto.")


@predict_app.command("ocr")
def predict_ocr(
    image: Path,
    doc_type: Annotated[str, typer.Option("--doc-type", help=DOC_TYPE_HELP)] = "auto",
    show_numbers: Annotated[bool, typer.Option("--show-numbers", help="Print ID and card numbers in full "
                                               "(masked by default).")] = False,
    model: ModelOpt = None, from_store: StoreOpt = False, tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Read a document photo or scan into validated fields (every field says whether its checks pass)."""
    from rich.table import Table

    from models.ocr.checks import SENSITIVE_FIELDS, mask
    from models.ocr.types import OcrInput

    try:
        m = _load_local("ocr", model, from_store, tracking_uri)
        out = m.predict(OcrInput(image=_read_image(image, "image"), doc_type=doc_type))
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:  # machine output is for programs that need the values: unmasked, as over HTTP
        console.print_json(out.model_dump_json())
        return
    console.print(f"{image.name}: [bold]{out.doc_type}[/bold]{' (classified)' if out.classified else ''}, "
                  f"{len(out.lines)} lines, turned {out.checks.orientation}°, "
                  f"{'outline found' if out.checks.localised else 'no outline'}, "
                  f"{sum(out.evidence.timings_ms.values()):.0f} ms, model {m.card.name}")
    table = Table("field", "value", "valid", "confidence", "reason")
    for name, f in out.fields.items():
        value = mask(f.value) if name in SENSITIVE_FIELDS and f.value and not show_numbers else f.value
        table.add_row(name, value, "[green]yes[/green]" if f.valid else "[red]no[/red]", f"{f.confidence:.2f}",
                      f.reason)
    console.print(table)
    for w in out.checks.warnings:
        console.print(f"[yellow]warning[/yellow]: {w}")


AudioLang = Annotated[str, typer.Option("--lang", help="zh (Mandarin) or en.")]


def _read_audio(path: Path, sample_rate: int | None = None):
    from models.speech.audio import InvalidAudio, decode_audio

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidAudio(f"audio: cannot read {path}: {exc.strerror}") from exc
    return decode_audio(data, raw_rate=sample_rate)


def _asr_model(lang: str, model: str | None, from_store: bool, tracking_uri: str | None):
    if lang not in ("zh", "en"):
        raise InvalidInput(f"--lang {lang!r}: expected zh or en")
    if from_store or (lang == "zh" and model is None):  # the Mandarin default is trained: it lives in the store
        from serving import store

        return store.load(store.configure(tracking_uri), "asr-zh" if lang == "zh" else "asr-en")[0]
    from models.registry import create_model

    return create_model(model or "asr-pocketsphinx-en")


@predict_app.command("tts")
def predict_tts(
    text: str, out: Annotated[Path, typer.Option("--out", "-o", help="WAV file to write.")] = Path("speech.wav"),
    lang: AudioLang = "zh", voice: Annotated[str, typer.Option(help="m1-m7, f1-f5")] = "",
    rate: Annotated[int, typer.Option(help="Words per minute, 80-400.")] = 160,
    pitch: Annotated[int, typer.Option(help="0-99.")] = 50, as_json: JsonOpt = False,
) -> None:
    """Synthesise TEXT to a 16 kHz WAV (Mandarin numbers, dates and amounts are read out in words)."""
    from models.registry import create_model
    from models.speech.audio import encode_wav
    from models.speech.types import TtsInput

    try:
        m = create_model("tts-espeak")
        result = m.predict(TtsInput(text=text, lang=lang, voice=voice, rate=rate, pitch=pitch))
        out.write_bytes(encode_wav(result.audio))
    except VeriserveError as exc:
        _fail(exc, as_json)
    except OSError as exc:
        _fail(InvalidInput(f"cannot write {out}: {exc.strerror}"), as_json)
    info = {"out": str(out), "duration_s": result.duration_s, "spoken_text": result.spoken_text}
    if as_json:
        console.print_json(json.dumps(info, ensure_ascii=False))
        return
    console.print(f"wrote {out} ({result.duration_s:.2f} s); spoken as: {result.spoken_text}")


@predict_app.command("asr")
def predict_asr(
    audio: Path, lang: AudioLang = "zh",
    mode: Annotated[str, typer.Option(help="open, grammar or keywords (en); open or keywords (zh).")] = "open",
    phrase: Annotated[list[str] | None, typer.Option("--phrase", help="Allowed answer (repeatable).")] = None,
    sample_rate: Annotated[int | None, typer.Option(help="Raw 16-bit PCM input at this rate.")] = None,
    model: ModelOpt = None, from_store: StoreOpt = False, tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Transcribe AUDIO (WAV, FLAC, OGG, MP3, or raw PCM with --sample-rate)."""
    from models.speech.types import AsrInput

    try:
        m = _asr_model(lang, model, from_store, tracking_uri)
        out = m.predict(AsrInput(audio=_read_audio(audio, sample_rate), mode=mode, phrases=phrase or []))
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(out.model_dump_json())
        return
    console.print(f"[bold]{out.text or '(nothing recognised)'}[/bold]  ({out.duration_s:.2f} s, {m.card.name})")
    for seg in out.segments:
        console.print(f"  {seg.start_s:6.2f}-{seg.end_s:6.2f} s  {seg.text}  ({seg.confidence:.2f})")


@predict_app.command("confirm")
def predict_confirm(
    audio: Path, mode: Annotated[str, typer.Option(help="intent or read_aloud.")] = "intent",
    lang: AudioLang = "zh", question: Annotated[str, typer.Option(help="The question asked.")] = "",
    expected_text: Annotated[str, typer.Option(help="What should be read aloud.")] = "",
    model: ModelOpt = None, from_store: StoreOpt = False, tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Did the customer confirm? affirm / deny / unclear for an answer, or a read-aloud match ratio."""
    from models.speech.confirm import confirm

    try:
        m = _asr_model(lang, model, from_store, tracking_uri)
        out = confirm({lang: m}, _read_audio(audio), mode=mode, lang=lang, expected_text=expected_text,
                      question=question)
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(out.model_dump_json())
        return
    verdict = "[green]PASSED[/green]" if out.passed else "[red]NOT PASSED[/red]"
    console.print(f"{verdict}  {out.reason}\n  heard: {out.transcript or '(nothing)'}")


@predict_app.command("face-match")
def predict_face_match(id_image: Path, live_image: Path, model: ModelOpt = None, from_store: StoreOpt = False,
                       threshold: Annotated[float | None, typer.Option(help="Cosine threshold override.")] = None,
                       tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Compare the face on ID_IMAGE with the face on LIVE_IMAGE."""
    from models.face.types import MatchInput

    try:
        m = _load_local("face-match", model, from_store, tracking_uri)
        if threshold is not None:
            m.config["threshold"] = threshold
        out = m.predict(MatchInput(id_image=_read_image(id_image, "id_image"),
                                   live_image=_read_image(live_image, "live_image")))
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(out.model_dump_json())
        return
    verdict = "[green]MATCH[/green]" if out.match else "[red]NO MATCH[/red]"
    console.print(f"{verdict}  score {out.score:.1f}/100  similarity {out.similarity:.4f} "
                  f"(threshold {out.threshold}, operating point {out.operating_point})")
    for reason in out.evidence.reasons:
        console.print(f"  {reason}")
    console.print(f"  model {m.card.name} {m.card.version}, weights {m.card.digest[:12]}, "
                  f"{sum(out.evidence.timings_ms.values()):.0f} ms")


@predict_app.command("face-quality")
def predict_face_quality(
    image: Path,
    guide_box: Annotated[str | None, typer.Option(help="x1,y1,x2,y2 px the face must be inside.")] = None,
    model: ModelOpt = None, from_store: StoreOpt = False, tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Check IMAGE for one usable face: pose, size, sharpness, exposure, light, eyes, mouth, occlusion."""
    from models.face.types import QualityInput
    from serving.ingress import parse_guide_box

    try:
        m = _load_local("face-quality", model, from_store, tracking_uri)
        pixels = _read_image(image, "image")
        guide = parse_guide_box(guide_box, pixels.shape[1], pixels.shape[0])
        out = m.predict(QualityInput(image=pixels, guide_box=guide))
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(out.model_dump_json())
        return
    verdict = "[green]PASSED[/green]" if out.passed else "[red]FAILED[/red]"
    console.print(f"{verdict}  quality {out.score:.1f}/100, {out.face_count} face(s) in {image.name}")
    for reason in out.reasons:
        console.print(f"  - {reason}")
    table = Table("check", "value", "limit", "result")
    for c in out.checks:
        result = {True: "ok", False: "[red]fail[/red]", None: "not assessed"}[c.passed]
        table.add_row(c.name, "-" if c.value is None else f"{c.value:.3g}", c.limit, result)
    console.print(table)


@predict_app.command("select-frames")
def predict_select_frames(
    inputs: Annotated[list[Path], typer.Argument(help="One video file, or several image files (frames).")],
    k: Annotated[int, typer.Option(min=1, max=10, help="How many frames to return.")] = 3,
    sample_fps: Annotated[float, typer.Option(help="Frames sampled per second of video.")] = 5.0,
    save_best: Annotated[Path | None, typer.Option(help="Write the best headshot JPEG here.")] = None,
    model: ModelOpt = None, from_store: StoreOpt = False, tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Pick the best headshot frames from a video (mp4/webm/avi) or a list of images."""
    import base64

    from rich.progress import track

    from models.face.frames import FrameSelector
    from models.video import frames_from_images, sample_frames

    try:
        selector = FrameSelector(_load_local("face-quality", model, from_store, tracking_uri))
        if len(inputs) == 1 and inputs[0].suffix.lower() in {".mp4", ".webm", ".avi", ".mov", ".mkv"}:
            try:
                data = inputs[0].read_bytes()
            except OSError as exc:
                raise InvalidInput(f"video: cannot read {inputs[0]}: {exc.strerror}", code="invalid_video") from exc
            frames = sample_frames(data, sample_fps=sample_fps)
        else:
            frames = frames_from_images([_read_image(p, p.name) for p in track(inputs, "reading", console=err,
                                                                                  transient=True)])
        out = selector.select(frames, k=k)
    except VeriserveError as exc:
        _fail(exc, as_json)
    if save_best and out.best_image_b64:
        save_best.write_bytes(base64.b64decode(out.best_image_b64))
    if as_json:
        console.print_json(out.model_dump_json())
        return
    console.print(f"{out.frames_with_one_face}/{out.frames_considered} frames with one face; "
                  f"{out.evidence.timings_ms['per_frame']:.0f} ms per frame")
    for f in out.frames:
        console.print(f"  frame {f.index} at {f.timestamp_ms:.0f} ms: score {f.score:.1f} "
                      f"(quality {f.quality_score:.1f}{', passed' if f.passed else ''})")
    if save_best and out.best_image_b64:
        console.print(f"best headshot written to {save_best}")


@predict_app.command("liveness-passive")
def predict_liveness_passive(
    images: Annotated[list[Path], typer.Argument(help="One selfie, or several frames of one capture.")],
    model: ModelOpt = None,
    from_store: Annotated[bool, typer.Option("--store/--no-store", help="Load models:/liveness-passive@champion "
                                                                        "(default) or --model's own weights.")] = True,
    tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Passive liveness: live score, decision at the card's threshold, and the SHAP cues behind it."""
    from models.liveness.types import PassiveInput

    try:
        m = _load_local("liveness-passive", model, from_store, tracking_uri)
        out = m.predict(PassiveInput(images=[_read_image(p, p.name) for p in images]))
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(out.model_dump_json())
        return
    verdict = "[green]LIVE[/green]" if out.live else "[red]ATTACK SUSPECTED[/red]"
    console.print(f"{verdict}  score {out.score:.3f} (threshold {out.threshold:.3f}, operating point "
                  f"{out.operating_point})")
    table = Table("feature", "value", "SHAP (→ live)")
    for c in out.explanation:
        table.add_row(c.feature, f"{c.value:.4g}", f"{c.shap:+.3f}")
    console.print(table)


@train_app.command("asr-intent")
def train_asr_intent(
    out: Annotated[Path | None, typer.Option(help="Where to write the model (default var/trained/...).")] = None,
    utterances: Annotated[int, typer.Option(min=100, help="Synthesised training utterances.")] = 1800,
    epochs: Annotated[int, typer.Option(min=1)] = 12, seed: int = 0,
    champion: Annotated[bool, typer.Option(help="Make the new version the champion of asr-zh.")] = False,
    tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Train the Mandarin answer recogniser on speech synthesised with espeak-ng (voices, rates, pitches,
    noise, reverberation), log the run to MLflow and register it under asr-zh."""
    from rich.progress import Progress

    from models.liveness.passive import trained_dir
    from serving import store
    from training.speech.train import log_and_register, train

    _setup_logging()
    client = store.configure(tracking_uri)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("training", total=epochs)
        result = train(out or trained_dir("asr-intent-zh"), n_train=utterances, epochs=epochs, seed=seed,
                       progress=lambda msg, done, total: bar.update(task, completed=done, description=msg))
    run_id, reg = log_and_register(client, result, reason="veriserve train asr-intent", set_champion=champion)
    info = {"out_dir": str(result.out_dir), "metrics": result.metrics, "mlflow_run_id": run_id,
            "registered": reg.registered, "version": reg.version}
    if as_json:
        console.print_json(json.dumps(info))
        return
    console.print(f"held-out accuracy (unseen voices) {result.metrics['heldout_accuracy']:.3f}; "
                  f"registered {reg.registered} v{reg.version}; MLflow run {run_id}")


@train_app.command("liveness")
def train_liveness(
    dataset: Annotated[Path | None, typer.Argument(help="ImageFolder (live/, spoof/<type>/), CelebA-Spoof or "
                                                        "OULU-NPU layout.")] = None,
    synthetic: Annotated[Path | None, typer.Option(help="Generate a synthetic attack set from shipped photos "
                                                        "into this folder and train on it.")] = None,
    per_face: Annotated[int, typer.Option(help="Synthetic: samples per class and person.")] = 24,
    kind: Annotated[str, typer.Option("--model", help="texture (gradient boosting + SHAP) or cnn (ONNX).")]
    = "texture",
    out: Annotated[Path | None, typer.Option(help="Where to write weights + card.json (default "
                                                  "$VERISERVE_HOME/trained/liveness-passive-<model>).")] = None,
    seed: Annotated[int, typer.Option(help="Seed for the split, the generator and the model.")] = 0,
    register: Annotated[bool, typer.Option(help="Register the result as a liveness-passive version.")] = True,
    champion: Annotated[bool, typer.Option(help="Also move the champion alias to it.")] = False,
    tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Train the passive texture liveness model, evaluate it per ISO/IEC 30107-3 on held-out subjects,
    log it to MLflow and register it."""
    from rich.progress import Progress

    from models.errors import InvalidInput
    from models.liveness.passive import trained_dir
    from serving import store
    from training.liveness.cnn import train_cnn
    from training.liveness.train import log_and_register, synthetic_dataset, train_texture

    _setup_logging()
    try:
        if (dataset is None) == (synthetic is None):
            raise InvalidInput("give a DATASET folder or --synthetic DIR (not both)")
        if kind not in ("texture", "cnn"):
            raise InvalidInput("--model must be texture or cnn")
        client = store.configure(tracking_uri)
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("preparing", total=None)

            def step(name: str, n: int, total: int) -> None:
                bar.update(task, description=name, completed=n, total=total)

            if synthetic is not None:
                dataset = synthetic_dataset(synthetic, per_face=per_face, seed=seed,
                                            progress=lambda n, t: step("generating attacks", n, t))
            trainer = train_texture if kind == "texture" else train_cnn
            result = trainer(dataset, out or trained_dir(f"liveness-passive-{kind}"), seed=seed,
                             synthetic=synthetic is not None, progress=step)
            run_id, reg = (log_and_register(client, result, reason="veriserve train liveness",
                                            set_champion=champion) if register else (None, None))
    except VeriserveError as exc:
        _fail(exc, as_json)
    report = {"out_dir": str(result.out_dir), "test": result.test_report, "cross_validation": result.cv_report,
              "skipped": len(result.skipped), "mlflow_run_id": run_id,
              "registered_version": reg.version if reg else None}
    if as_json:
        console.print_json(json.dumps(report, default=float))
        return
    t = result.test_report
    console.print(f"weights and card: {result.out_dir}")
    console.print(f"held-out subjects at threshold {t['threshold']:.4f}: APCER {t['apcer']} "
                  f"(max {t['apcer_max']:.3f}), BPCER {t['bpcer']:.3f}, ACER {t['acer']:.3f}; "
                  f"BPCER@APCER5% {t['bpcer_at_apcer_5pct']:.3f}")
    if reg:
        console.print(f"registered liveness-passive v{reg.version} (MLflow run {run_id})"
                      + ("" if champion else "; promote with 'veriserve models promote liveness-passive …'"))


@evaluate_app.command("face-match")
def evaluate_face_match(
    pairs: Annotated[Path | None, typer.Option(help="LFW-layout root (<root>/<name>/<name>_0001.jpg); "
                                                    "default: the demo pair set built from shipped photos.")] = None,
    pairs_file: Annotated[Path | None, typer.Option(help="Pairs list (default <root>/pairs.txt).")] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N pairs.")] = None,
    variants: Annotated[int, typer.Option(help="Demo set: variants per person.")] = 12,
    target_fmr: Annotated[float, typer.Option(help="Operating point for --register.")] = 1e-3,
    register: Annotated[bool, typer.Option(help="Register a face-match version whose card carries the "
                                                "calibrated thresholds (the alias is not moved).")] = False,
    version: VersionOpt = None,
    model: ModelOpt = None, from_store: StoreOpt = False, tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """FMR/FNMR, EER, TAR@FMR, ROC/DET and calibrated thresholds for a face-match model, logged to MLflow.
    With ``--version``: the risk evidence of that registered version (FMR/FNMR per group, for the report)."""
    if version:
        from serving.cli_risk import assess

        return assess("face-match", version, as_json, tracking_uri, variants=variants)
    from rich.progress import Progress

    from evaluation import face_match as fm
    from evaluation.pairs import demo_pairs, load_lfw_pairs
    from models.base import CARD_FILE, ModelCard
    from models.registry import create_model
    from serving import store
    from training.bootstrap import register as register_version

    _setup_logging()
    try:
        client = store.configure(tracking_uri)
        if from_store:
            info = store.get_by_alias(client, "face-match")
            weights = store.download(client, info)
            card = ModelCard.from_file(weights / CARD_FILE)
            m = create_model(card.name, weights, **card.config)
        else:
            m = create_model(model or "face-match-dlib")
            weights = m.default_path()
        with err.status("preparing pairs…"):
            dataset = load_lfw_pairs(pairs, pairs_file, limit=limit) if pairs else demo_pairs(variants=variants)
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("embedding faces", total=len(dataset.images))
            result = fm.evaluate(m, dataset, progress=lambda n, total: bar.update(task, completed=n))
        run_id = fm.log_to_mlflow(result)
        registered = None
        if register:
            card = fm.calibrated_card(m.card, result, target_fmr, run_id)
            registered = register_version(client, "face-match", card.name, card.config, weights, card=card,
                                          reason=f"calibrated at FMR {target_fmr:g}", set_champion=False)
    except VeriserveError as exc:
        _fail(exc, as_json)
    out = {**fm.report(result), "mlflow_run_id": run_id,
           "registered_version": registered.version if registered else None}
    if as_json:
        console.print_json(json.dumps(out))
        return
    s = result.summary
    console.print(f"{result.model} on {result.dataset}: {s['genuine_pairs']} genuine / {s['impostor_pairs']} "
                  f"impostor pairs, failure to acquire {s['failure_to_acquire_rate']:.1%}")
    console.print(f"deployed threshold {s['threshold_deployed']}: FMR {s['fmr_at_deployed']:.4g}, "
                  f"FNMR {s['fnmr_at_deployed']:.4g}; EER {s['eer']:.4g} at {s['eer_threshold']:.4f}")
    table = Table("target FMR", "threshold", "FNMR", "TAR", "supported")
    for c in result.calibration.values():
        table.add_row(f"{c['target_fmr']:g}", f"{c['threshold']:.4f}", f"{c['fnmr']:.4f}", f"{c['tar']:.4f}",
                      "yes" if c["supported"] else f"no — {c['note']}")
    console.print(table)
    console.print(f"MLflow run {run_id} (plots: ROC, DET, score histogram)")
    if registered:
        console.print(f"registered face-match v{registered.version} with the FMR {target_fmr:g} threshold; "
                      f"promote it with 'veriserve models promote face-match {registered.version} --reason …'")


@evaluate_app.command("liveness")
def evaluate_liveness(
    dataset: Annotated[Path, typer.Argument(help="ImageFolder (live/, spoof/<type>/), CelebA-Spoof or OULU-NPU.")],
    groups: Annotated[Path | None, typer.Option(help="CSV subject,group for the per-group breakdown.")] = None,
    model: ModelOpt = None,
    from_store: Annotated[bool, typer.Option("--store/--no-store", help="Evaluate models:/liveness-passive@champion "
                                                                        "(default) or --model's own weights.")] = True,
    tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """APCER per attack type and max, BPCER, ACER, BPCER@APCER 1 %/5 %, DET and per-group figures
    (ISO/IEC 30107-3), logged to MLflow."""
    from rich.progress import Progress

    from evaluation import liveness as ev
    from serving import store

    _setup_logging()
    try:
        store.configure(tracking_uri)
        m = _load_local("liveness-passive", model, from_store, tracking_uri)
        labels = ev.read_groups(groups) if groups else None
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("scoring", total=None)
            result = ev.evaluate(m, dataset, groups=labels,
                                 progress=lambda n, t: bar.update(task, completed=n, total=t))
        run_id = ev.log_to_mlflow(result)
    except VeriserveError as exc:
        _fail(exc, as_json)
    result["mlflow_run_id"] = run_id
    if as_json:
        console.print_json(json.dumps({k: v for k, v in result.items() if k not in ("scores", "samples")}))
        return
    r = result["report"]
    console.print(f"{result['model']} ({result['model_version']}) at threshold {r['threshold']:.4f}, "
                  f"{r['bona_fide']} bona fide / {sum(r['attacks'].values())} attacks, "
                  f"{result['failure_to_acquire']} failures to acquire")
    table = Table("attack type", "n", "APCER")
    for k, v in r["apcer"].items():
        table.add_row(k, str(r["attacks"][k]), f"{v:.3f}")
    console.print(table)
    console.print(f"APCER max {r['apcer_max']:.3f}  BPCER {r['bpcer']:.3f}  ACER {r['acer']:.3f}  "
                  f"BPCER@APCER1% {r['bpcer_at_apcer_1pct']:.3f}  BPCER@APCER5% {r['bpcer_at_apcer_5pct']:.3f}")
    for g, e in result["groups"].items():
        console.print(f"  group {g}: {e}")
    console.print(f"MLflow run {run_id}")


@evaluate_app.command("ocr")
def evaluate_ocr(
    per_type: Annotated[int, typer.Option(min=1, help="Rendered documents per document type.")] = 10,
    doc_type: Annotated[list[str] | None, typer.Option("--doc-type", help="Only these types (repeatable).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the rendered set (0 is the reference set).")] = 0,
    version: VersionOpt = None,
    model: ModelOpt = None, from_store: StoreOpt = False, tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Field accuracy, CER and silent errors per document type, field and group on rendered documents
    (varied fonts, backgrounds, perspective, blur, noise, JPEG, glare, rotation), logged to MLflow.
    With ``--version``: the risk evidence of that registered version (per-group intervals, for the report)."""
    if version:
        from serving.cli_risk import assess

        return assess("ocr", version, as_json, tracking_uri, per_type=per_type, doc_types=tuple(doc_type or ()) or None,
                      seed=seed)
    from rich.progress import Progress

    from evaluation import ocr as ev
    from models.ocr.types import DOC_TYPES
    from serving import store

    _setup_logging()
    types = tuple(doc_type or DOC_TYPES)
    unknown = set(types) - set(DOC_TYPES)
    try:
        if unknown:
            raise InvalidInput(f"unknown doc_type(s) {sorted(unknown)}; expected {', '.join(DOC_TYPES)}")
        store.configure(tracking_uri)
        m = _load_local("ocr", model, from_store, tracking_uri)
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("reading documents", total=per_type * len(types))
            result = ev.evaluate(m, per_type=per_type, doc_types=types, seed=seed,
                                 progress=lambda n, t: bar.update(task, completed=n, total=t))
        run_id = ev.log_to_mlflow(result)
    except VeriserveError as exc:
        _fail(exc, as_json)
    result["mlflow_run_id"] = run_id
    if as_json:
        console.print_json(json.dumps({k: v for k, v in result.items() if k != "errors"}))
        return
    table = Table("document type", "fields", "field accuracy", "CER", "flagged", "wrong but passed")
    for t, st in result["by_type"].items():
        table.add_row(t, str(st["n"]), f"{st['field_accuracy']:.3f}", f"{st['cer']:.4f}", f"{st['flagged_rate']:.3f}",
                      f"{st['silent_error_rate']:.3f}")
    o = result["overall"]
    table.add_row("[bold]all[/bold]", str(o["n"]), f"{o['field_accuracy']:.3f}", f"{o['cer']:.4f}",
                  f"{o['flagged_rate']:.3f}", f"{o['silent_error_rate']:.3f}")
    console.print(table)
    for g, st in result["by_group"].items():
        console.print(f"  group {g}: n={st['n']} accuracy {st['field_accuracy']:.3f} CER {st['cer']:.4f}")
    console.print(f"MLflow run {run_id}")


@evaluate_app.command("speech")
def evaluate_speech(
    repeats: Annotated[int, typer.Option(min=1, help="Clips per Mandarin phrase and voice.")] = 2,
    seed: int = 0, tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """TTS -> ASR round trips: accuracy, CER/WER per voice group (seen / unseen in training), speaking rate,
    sample rate (8/16/44.1 kHz) and noise level, with the real-time factor; logged to MLflow."""
    from rich.progress import Progress

    from evaluation import speech as ev
    from models.registry import create_model
    from serving import store

    _setup_logging()
    try:
        client = store.configure(tracking_uri)
        zh = store.load(client, "asr-zh")[0]
        en = create_model("asr-pocketsphinx-en")
        tts = create_model("tts-espeak")
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("round trips", total=None)
            result = ev.evaluate(tts, zh, en, repeats=repeats, seed=seed,
                                 progress=lambda n, t: bar.update(task, completed=n, total=t))
        run_id = ev.log_to_mlflow(result)
    except VeriserveError as exc:
        _fail(exc, as_json)
    result["mlflow_run_id"] = run_id
    if as_json:
        console.print_json(json.dumps({k: v for k, v in result.items() if k != "rows"}))
        return
    table = Table("task", "clips", "accuracy", "CER", "WER", "RTF p50")
    for t, st in result["by_task"].items():
        table.add_row(t, str(st["n"]), f"{st['accuracy']:.3f}", f"{st['cer']:.3f}", f"{st.get('wer', 0):.3f}"
                      if "wer" in st else "", f"{st['rtf_p50']:.3f}")
    console.print(table)
    for scope, groups in result["by_condition"].items():
        console.print(f"  {scope}: " + ", ".join(f"{g} {st['accuracy']:.2f}" for g, st in groups.items()))
    console.print(f"MLflow run {run_id}")


@evaluate_app.command("frame-stability")
def evaluate_frame_stability(
    video: Annotated[Path | None, typer.Argument(help="A clip (mp4/webm/avi); default: a synthetic clip made "
                                                      "from a shipped photo.")] = None,
    trials: Annotated[int, typer.Option(min=1, help="Perturbed copies per perturbation.")] = 3,
    sample_fps: Annotated[float, typer.Option(help="Frames sampled per second of video.")] = 5.0,
    tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """How often frame selection picks the same frame (±1) after re-encoding, brightness shifts,
    dropped frames and noise; logged to MLflow."""
    import mlflow
    from rich.progress import Progress

    from evaluation.frame_stability import PERTURBATIONS, demo_clip, stability
    from models.face.frames import FrameSelector
    from models.registry import create_model
    from models.video import sample_frames
    from serving import store

    _setup_logging()
    try:
        store.configure(tracking_uri)
        frames = sample_frames(video.read_bytes(), sample_fps=sample_fps) if video else demo_clip()
        selector = FrameSelector(create_model("face-quality-dlib"))

        def pick(fs):
            out = selector.select(fs, k=1)
            return out.frames[0].index if out.frames else None

        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("perturbing", total=trials * len(PERTURBATIONS))
            report = stability(pick, frames, trials=trials, progress=lambda name: bar.update(
                task, advance=1, description=name))
    except VeriserveError as exc:
        _fail(exc, as_json)
    except OSError as exc:
        _fail(VeriserveError(f"video: cannot read {video}: {exc.strerror}", code="invalid_video"), as_json)
    with mlflow.start_run(run_name="evaluate frame-stability") as run:
        mlflow.log_params({"clip": str(video) if video else "demo:grace_hopper", "frames": len(frames),
                           "trials": trials})
        mlflow.log_metrics({"same_frame_rate_overall": report["same_frame_rate_overall"],
                            **{f"same_frame_rate.{k}": v for k, v in report["same_frame_rate"].items()}})
        mlflow.log_dict(report, "frame_stability.json")
    report["mlflow_run_id"] = run.info.run_id
    if as_json:
        console.print_json(json.dumps(report))
        return
    console.print(f"reference frame {report['reference_index']}; same frame (±{report['tolerance_frames']}) chosen:")
    for k, v in report["same_frame_rate"].items():
        console.print(f"  {k}: {v:.0%}")
    console.print(f"overall {report['same_frame_rate_overall']:.0%} — MLflow run {run.info.run_id}")


# the command modules register themselves on the apps above
from serving import cli_risk, cli_signing, cli_workflow  # noqa: E402,F401


def main() -> None:
    app()


if __name__ == "__main__":
    main()
