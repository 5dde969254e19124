"""Build and run the Veriserve Ray Serve application from a :class:`ServeConfig`."""

from __future__ import annotations

import logging
import os
import time

from models.errors import InvalidInput
from serving import store
from serving.config import ServeConfig

log = logging.getLogger(__name__)

APP_NAME = "veriserve"
KNOWN_FAMILIES = {"face", "liveness", "ocr", "speech"}
REQUIRED_ROLES = {"face": {"detect", "match", "quality"}, "liveness": {"passive", "action"}, "ocr": {"ocr"},
                  "speech": {"tts", "asr_zh", "asr_en"}}


def build_app(cfg: ServeConfig):
    """Wire the graph: one deployment per family, handles passed to the ingress."""
    from serving.deployments import FaceService, LivenessService, OcrService, SpeechService
    from serving.ingress import Ingress

    handles = {}
    for name, cls in (("face", FaceService), ("liveness", LivenessService), ("ocr", OcrService),
                      ("speech", SpeechService)):
        fam = cfg.families[name]
        handles[name] = cls.options(
            num_replicas=fam.replicas,
            ray_actor_options={"num_cpus": fam.num_cpus},
            user_config={"thresholds": fam.thresholds, "max_batch_size": fam.max_batch_size},
        ).bind(fam.model_dump(), store.tracking_uri(cfg.mlflow.tracking_uri), str(store.home()))
    return Ingress.bind(handles["face"], handles["liveness"], handles["ocr"], handles["speech"], cfg.http.model_dump())


def quiet_ray_env() -> None:
    """Local defaults: no auth token, no usage stats, no dashboard noise."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def preflight(cfg: ServeConfig) -> None:
    """Fail fast, before Ray starts, when a configured model has no version under its alias."""
    if set(cfg.families) != KNOWN_FAMILIES:
        raise InvalidInput(f"config families must be exactly {sorted(KNOWN_FAMILIES)}; got {sorted(cfg.families)}")
    for name, family in cfg.families.items():
        missing = REQUIRED_ROLES.get(name, set()) - set(family.models)
        if missing:
            raise InvalidInput(f"config family {name!r} lacks model role(s) {sorted(missing)}")
    if not cfg.ray.address:  # a local Ray: every replica must fit, or Serve waits for CPUs forever
        cpus = cfg.ray.num_cpus or os.cpu_count() or 1
        wanted = sum(f.num_cpus * f.replicas for f in cfg.families.values())
        if wanted > cpus + 1e-9:
            raise InvalidInput(f"config asks for {wanted:g} CPUs (num_cpus x replicas over the families) but the "
                               f"local Ray has {cpus}; lower families.*.num_cpus or replicas")
    client = store.configure(cfg.mlflow.tracking_uri)
    for family in cfg.families.values():
        for spec in family.models.values():
            store.get_by_alias(client, spec.registered, spec.alias)


def start(cfg: ServeConfig) -> None:
    """Start (or join) Ray, start Serve on the configured host/port and deploy the app; returns when ready."""
    import ray
    from ray import serve

    quiet_ray_env()
    preflight(cfg)
    if not ray.is_initialized():
        kwargs = {"include_dashboard": False, "log_to_driver": False}
        if cfg.ray.address:
            ray.init(address=cfg.ray.address, **kwargs)
        else:
            ray.init(num_cpus=cfg.ray.num_cpus, object_store_memory=cfg.ray.object_store_mb * 1024 * 1024, **kwargs)
    serve.start(http_options={"host": cfg.http.host, "port": cfg.http.port},
                logging_config={"enable_access_log": False})
    t0 = time.perf_counter()
    serve.run(build_app(cfg), name=APP_NAME, route_prefix="/", blocking=False)
    log.info("Veriserve ready on http://%s:%d in %.1fs", cfg.http.host, cfg.http.port, time.perf_counter() - t0)


def stop() -> None:
    import ray
    from ray import serve

    try:
        serve.shutdown()
    finally:
        ray.shutdown()
