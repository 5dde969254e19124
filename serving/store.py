"""The MLflow model store: where model versions, their cards and aliases live.

Local default: SQLite at ``$VERISERVE_HOME/mlflow.db`` with artifacts in ``$VERISERVE_HOME/mlartifacts``
(``VERISERVE_HOME`` defaults to ``./var``). ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` points at a
tracking server instead. Registered model names are tasks (``face-match``); each version's
``card.json`` names the registry model (``face-match-dlib``) that loads it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from models.base import CARD_FILE, ModelCard
from models.errors import ModelLoadError, ModelNotFound

log = logging.getLogger(__name__)

EXPERIMENT = "veriserve-models"
CHAMPION = "champion"
WEIGHTS_ARTIFACT = "weights"
TAG_MODEL = "veriserve.model"
TAG_CARD = "veriserve.card_sha256"
_EVENT_PREFIX = "veriserve.alias_event."


def home() -> Path:
    return Path(os.environ.get("VERISERVE_HOME", "var")).absolute()


def cache_home() -> Path:
    """Where generated datasets and bootstrap-trained weights are kept (``VERISERVE_CACHE``, default
    ``VERISERVE_HOME``); several stores can share one."""
    cache = os.environ.get("VERISERVE_CACHE")
    return Path(cache).absolute() if cache else home()


def tracking_uri(explicit: str | None = None) -> str:
    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home() / 'mlflow.db'}"


def configure(uri: str | None = None):
    """Point MLflow at the store (creating the local one if needed) and return an ``MlflowClient``."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import warnings

    import mlflow
    from mlflow import MlflowClient

    warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method.*")
    uri = tracking_uri(uri)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    for noisy in ("alembic", "mlflow.store.db.utils", "mlflow.tracking", "mlflow.models"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # MLflow exports the URI to the environment as a side effect; undo that, or the next configure()
    # (another VERISERVE_HOME in the same process) would mistake it for the user's setting
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    if client.get_experiment_by_name(EXPERIMENT) is None:
        location = (home() / "mlartifacts").as_uri() if uri.startswith("sqlite:") else None
        client.create_experiment(EXPERIMENT, artifact_location=location)
    mlflow.set_experiment(EXPERIMENT)
    return client


@dataclass(frozen=True)
class ModelVersionInfo:
    registered: str
    version: str
    aliases: tuple[str, ...]
    tags: dict[str, str]
    run_id: str | None
    created: str

    def row(self) -> dict:
        t = self.tags
        return {
            "name": self.registered, "version": self.version, "alias": ",".join(self.aliases),
            "model": t.get(TAG_MODEL, ""), "family": t.get("veriserve.family", ""),
            "backend": t.get("veriserve.backend", ""), "licence": t.get("veriserve.licence", ""),
            "commercial_use": t.get("veriserve.commercial_use", "") == "true",
            "digest": t.get("veriserve.digest", ""), "created": self.created,
        }


def card_tags(card: ModelCard) -> dict[str, str]:
    """The card fields kept as model-version tags, for listing without downloading artifacts."""
    return {TAG_MODEL: card.name, "veriserve.family": card.family, "veriserve.backend": card.backend,
            "veriserve.licence": card.licence[:4000], "veriserve.commercial_use": str(card.commercial_use).lower(),
            "veriserve.digest": card.digest, TAG_CARD: card_sha256(card)}


def _info(client, mv) -> ModelVersionInfo:
    created = dt.datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=dt.UTC).isoformat(timespec="seconds")
    if not mv.aliases:  # search results leave aliases out; a direct read has them
        mv = client.get_model_version(mv.name, mv.version)
    return ModelVersionInfo(mv.name, str(mv.version), tuple(mv.aliases or ()), dict(mv.tags or {}),
                            mv.run_id, created)


def list_versions(client, name: str | None = None) -> list[ModelVersionInfo]:
    """Every registered version (of ``name``, or of all models), newest first within a name."""
    names = [name] if name else sorted(rm.name for rm in client.search_registered_models())
    out = []
    for n in names:
        versions = client.search_model_versions(f"name='{n}'")
        if name and not versions:
            raise ModelNotFound(f"no registered model named {n!r}")
        out += [_info(client, mv) for mv in sorted(versions, key=lambda v: -int(v.version))]
    return out


def find_version(client, name: str, card: ModelCard) -> ModelVersionInfo | None:
    """The registered version of ``name`` whose card is exactly ``card``, if any."""
    want = card_sha256(card)
    for mv in client.search_model_versions(f"name='{name}'"):
        if (mv.tags or {}).get(TAG_CARD) == want:
            return _info(client, mv)
    return None


def card_sha256(card: ModelCard) -> str:
    import hashlib

    return hashlib.sha256(card.to_json().encode()).hexdigest()


def has_alias(client, name: str, alias: str = CHAMPION) -> bool:
    try:
        get_by_alias(client, name, alias)
    except ModelNotFound:
        return False
    return True


def get_by_alias(client, name: str, alias: str = CHAMPION) -> ModelVersionInfo:
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        raise ModelNotFound(
            f"no version of {name!r} has alias {alias!r} in {client.tracking_uri}; "
            f"run 'veriserve models bootstrap' or 'veriserve models promote'"
        ) from exc
    return _info(client, mv)


def set_alias(client, name: str, version: str, alias: str = CHAMPION, *, reason: str, user: str | None = None,
              forced: bool = False, overridden: list[str] | None = None) -> dict:
    """Point ``alias`` at ``version`` and append who, when and why to the alias history.

    Events are registered-model tags numbered in order; each carries the SM3 digest of its predecessor
    and its own (``prev_sm3``, ``sm3``), so an edited or deleted event breaks :func:`verify_history`.
    """
    try:
        previous = client.get_model_version_by_alias(name, alias).version
    except Exception:
        previous = None
    client.get_model_version(name, version)  # raises if the version does not exist
    client.set_registered_model_alias(name, alias, version)
    history = alias_history(client, name)
    event = {"alias": alias, "version": str(version), "previous": previous and str(previous),
             "user": user or getpass.getuser(), "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
             "reason": reason, "forced": forced, "overridden": list(overridden or []),
             "prev_sm3": history[-1].get("sm3", "") if history else ""}
    event["sm3"] = _event_digest(event)
    client.set_registered_model_tag(name, f"{_EVENT_PREFIX}{len(history):05d}", json.dumps(event, ensure_ascii=False))
    log.info("alias %s of %s -> version %s (was %s)%s", alias, name, version, previous, " FORCED" if forced else "")
    return event


def _event_digest(event: dict) -> str:
    from models.digests import sm3_hex

    body = {k: v for k, v in event.items() if k != "sm3"}
    return sm3_hex(json.dumps(body, ensure_ascii=False, sort_keys=True).encode())


def alias_history(client, name: str) -> list[dict]:
    rm = client.get_registered_model(name)
    events = sorted((k, v) for k, v in (rm.tags or {}).items() if k.startswith(_EVENT_PREFIX))
    return [json.loads(v) for _, v in events]


def verify_history(client, name: str) -> list[str]:
    """Problems in the alias history: an event whose digest does not match its content, or a broken link
    to its predecessor (an event edited, deleted or inserted). Events from before digests existed are skipped."""
    problems, prev = [], None
    rm = client.get_registered_model(name)
    events = sorted((k, v) for k, v in (rm.tags or {}).items() if k.startswith(_EVENT_PREFIX))
    for n, (key, raw) in enumerate(events):
        if key != f"{_EVENT_PREFIX}{n:05d}":
            problems.append(f"event {n}: missing (found {key.removeprefix(_EVENT_PREFIX)})")
        event = json.loads(raw)
        if "sm3" in event:
            if _event_digest(event) != event["sm3"]:
                problems.append(f"event {n} ({event.get('at')}): content does not match its SM3 digest")
            if prev is not None and event.get("prev_sm3") != prev.get("sm3", ""):
                problems.append(f"event {n} ({event.get('at')}): does not follow the previous event")
        prev = event
    return problems


def _parse_time(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def alias_at(client, name: str, when: dt.datetime | str, alias: str = CHAMPION) -> dict | None:
    """The alias event in force at ``when`` (the last change at or before it), or None before the first."""
    when = _parse_time(when) if isinstance(when, str) else (when if when.tzinfo else when.replace(tzinfo=dt.UTC))
    live = None
    for event in alias_history(client, name):
        if event["alias"] == alias and _parse_time(event["at"]) <= when:
            live = event
    return live


def download(client, info: ModelVersionInfo) -> Path:
    """Local directory holding the version's weights and ``card.json`` (cached under ``$VERISERVE_HOME``)."""
    import mlflow

    dest = home() / "cache" / info.registered / info.version
    weights = dest / "artifacts" / WEIGHTS_ARTIFACT
    if not (weights / CARD_FILE).is_file():
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        try:
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{info.registered}/{info.version}", dst_path=str(dest))
        except Exception as exc:
            raise ModelLoadError(f"cannot download {info.registered} v{info.version}: {exc}") from exc
    if not (weights / CARD_FILE).is_file():
        raise ModelLoadError(f"{info.registered} v{info.version} has no {WEIGHTS_ARTIFACT}/{CARD_FILE} artifact")
    return weights


def load(client, name: str, alias: str = CHAMPION, **config):
    """``create_model`` on the weights of ``models:/<name>@<alias>``; returns (model, version info)."""
    from models.registry import create_model

    info = get_by_alias(client, name, alias)
    path = download(client, info)
    card = ModelCard.from_file(path / CARD_FILE)
    return create_model(card.name, path, **{**card.config, **config}), info
