"""Register the embedded default models in the MLflow store (``veriserve models bootstrap``).

Each default is logged as a pyfunc model with its weights and card, registered under its task name
and given the alias ``champion``. Idempotent: a version whose card is already registered is reused.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.base import ModelCard, verify_weights
from models.registry import model_class
from serving import store

log = logging.getLogger(__name__)

PIP_REQUIREMENTS = ["veriserve"]


@dataclass(frozen=True)
class DefaultModel:
    registered: str  # MLflow registered model name (the task)
    model: str  # registry name
    config: dict[str, Any] = field(default_factory=dict)


EMBEDDED_DEFAULTS: list[DefaultModel] = [
    DefaultModel("face-detect", "face-detect-dlib", {"landmarks": 68}),
    DefaultModel("face-match", "face-match-dlib"),
    DefaultModel("face-quality", "face-quality-dlib", {"landmarks": 68}),
    DefaultModel("liveness-action", "liveness-action-dlib"),
    DefaultModel("ocr", "ocr-rapidocr"),
    DefaultModel("tts", "tts-espeak"),
    DefaultModel("asr-en", "asr-pocketsphinx-en"),
]


@dataclass(frozen=True)
class BootstrapResult:
    registered: str
    version: str
    created: bool


def _stage(card, source: Path, into: Path) -> Path:
    """Copy the card's weight files and ``card.json`` into a fresh folder."""
    into.mkdir(parents=True)
    for w in card.weights:
        target = into / w.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / w.path, target)
    card.write(into)
    return into


def _signature(model):
    """Input columns: each image field of the model's input type as base64 text."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from serving.pyfunc import image_fields

    fields = model.input_type.model_fields
    images = image_fields(model.input_type)
    cols = [ColSpec("string", f"{f}_b64") for f in images]
    cols += [ColSpec("string", f, required=fields[f].is_required()) for f in fields if f not in images]
    return ModelSignature(inputs=Schema(cols))


def register(client, registered: str, model_name: str, config: dict[str, Any], source: Path | None = None,
             *, reason: str, set_champion: bool = True, card: ModelCard | None = None) -> BootstrapResult:
    """Log ``model_name`` (weights in ``source`` or its default location) as a version of ``registered``.

    ``card`` replaces the card the weights would get (e.g. one with calibrated thresholds); its
    digests are still checked against the files first.
    """
    import mlflow

    from serving import pyfunc

    model = model_class(model_name)(**config)
    source = Path(source) if source else model.default_path()
    if card is None:
        card = model.resolve_card(source)  # verifies digests before anything is logged
    else:
        if card.name != model_name:
            raise ValueError(f"card is for {card.name}, not {model_name}")
        verify_weights(card, source)
    existing = store.find_version(client, registered, card)
    if existing is not None:
        if set_champion and not store.has_alias(client, registered):
            store.set_alias(client, registered, existing.version, reason=reason)
        return BootstrapResult(registered, existing.version, False)
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(run_name=f"register {model_name}") as run:
        staged = _stage(card, source, Path(tmp) / store.WEIGHTS_ARTIFACT)
        mlflow.log_params({"model": model_name, "backend": card.backend, "card_version": card.version,
                           **{f"config.{k}": v for k, v in config.items()}})
        mlflow.log_dict(card.model_dump(mode="json"), "card.json")
        mlflow.set_tags(store.card_tags(card))
        with warnings.catch_warnings():  # MLflow nags for an input example; ours would be a face photo
            warnings.simplefilter("ignore", UserWarning)
            info = mlflow.pyfunc.log_model(
                name="model", python_model=pyfunc.__file__, artifacts={store.WEIGHTS_ARTIFACT: str(staged)},
                registered_model_name=registered, pip_requirements=PIP_REQUIREMENTS,
                metadata={"veriserve_model": model_name}, await_registration_for=60,
                signature=_signature(model),
            )
        version = str(info.registered_model_version)
        for k, v in {**store.card_tags(card), "veriserve.run_id": run.info.run_id}.items():
            client.set_model_version_tag(registered, version, k, v)
    if set_champion and not store.has_alias(client, registered):
        store.set_alias(client, registered, version, reason=reason)
    log.info("registered %s as %s v%s", model_name, registered, version)
    return BootstrapResult(registered, version, True)


def bootstrap(client, *, progress: Callable[[str], None] | None = None) -> list[BootstrapResult]:
    """Register every embedded default; safe to run any number of times."""
    results = []
    for d in EMBEDDED_DEFAULTS:
        if progress:
            progress(d.model)
        results.append(register(client, d.registered, d.model, d.config, reason="bootstrap: embedded default"))
    if progress:
        progress("liveness-passive-texture (training on synthetic attacks)")
    results.append(bootstrap_liveness(client))
    if progress:
        progress("asr-intent-zh (training on synthesised speech)")
    results.append(bootstrap_asr_zh(client))
    return results


def bootstrap_asr_zh(client, *, seed: int = 0) -> BootstrapResult:
    """Train the Mandarin answer recogniser on synthesised speech unless ``asr-zh`` has a champion;
    weights trained earlier with the same seed (in VERISERVE_CACHE) are reused after verification."""
    from models.errors import ModelLoadError
    from models.speech.keywords import KeywordASR
    from training.speech.train import log_and_register, train

    name, reason = "asr-zh", "bootstrap: trained on synthesised speech"
    if store.has_alias(client, name):
        return BootstrapResult(name, store.get_by_alias(client, name).version, False)
    trained = store.cache_home() / "trained" / f"{KeywordASR.name}-seed{seed}"
    try:
        card = KeywordASR().resolve_card(trained)
        return register(client, name, card.name, {}, trained, card=card, reason=reason)
    except ModelLoadError:
        pass
    return log_and_register(client, train(trained, seed=seed), registered=name, reason=reason, set_champion=True)[1]


def bootstrap_liveness(client, *, seed: int = 0) -> BootstrapResult:
    """Train the passive liveness defaults on synthetic attacks (deterministic, a couple of minutes on 2
    cores) unless a champion already exists: the texture model becomes champion, the CNN is registered
    beside it for comparison. Weights trained earlier with the same seed are reused after verification."""
    from models.errors import ModelLoadError
    from models.liveness.cnn import CNNLiveness
    from models.liveness.passive import TextureLiveness
    from training.liveness.cnn import train_cnn
    from training.liveness.train import log_and_register, synthetic_dataset, train_texture

    name, reason = "liveness-passive", "bootstrap: trained on synthetic attacks"
    if store.has_alias(client, name):
        return BootstrapResult(name, store.get_by_alias(client, name).version, False)
    work = store.cache_home() / "datasets" / f"synthetic-liveness-seed{seed}"
    results = []
    for cls, trainer, champion in ((TextureLiveness, train_texture, True), (CNNLiveness, train_cnn, False)):
        trained = store.cache_home() / "trained" / f"{cls.name}-seed{seed}"
        try:  # an earlier bootstrap (same seed, same code) already trained it: reuse after verifying
            card = cls().resolve_card(trained)
            results.append(register(client, name, card.name, {}, trained, card=card, reason=reason,
                                    set_champion=champion))
            continue
        except ModelLoadError:
            pass
        if not (work / "live").is_dir():
            synthetic_dataset(work, seed=seed)
        result = trainer(work, trained, seed=seed, synthetic=True)
        results.append(log_and_register(client, result, registered=name, reason=reason, set_champion=champion)[1])
    return results[0]
