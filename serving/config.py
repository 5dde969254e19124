"""Typed serving configuration, read from YAML (default: ``serving/config.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.errors import InvalidInput

DEFAULT_CONFIG = Path(__file__).with_name("config.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 25 * 1024 * 1024
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_video_bytes: int = 50 * 1024 * 1024
    max_audio_bytes: int = 20 * 1024 * 1024


class RayConfig(_Strict):
    address: str | None = None
    object_store_mb: int = 256
    num_cpus: int | None = None


class MlflowConfig(_Strict):
    tracking_uri: str | None = None


class ModelSpec(_Strict):
    registered: str
    alias: str = "champion"
    config: dict[str, Any] = Field(default_factory=dict)


class FamilyConfig(_Strict):
    replicas: int = 1
    num_cpus: float = 1.0
    max_batch_size: int = 4
    batch_wait_timeout_s: float = 0.005
    models: dict[str, ModelSpec]
    thresholds: dict[str, float] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict, description="family-specific settings")


class ServeConfig(_Strict):
    http: HttpConfig = Field(default_factory=HttpConfig)
    ray: RayConfig = Field(default_factory=RayConfig)
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    families: dict[str, FamilyConfig]


def load_config(path: str | Path | None = None) -> ServeConfig:
    """Read and validate a serving config; errors name the file and the offending field."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return ServeConfig.model_validate(raw)
    except OSError as exc:
        raise InvalidInput(f"cannot read config {path}: {exc}") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise InvalidInput(f"invalid config {path}: {exc}") from exc
