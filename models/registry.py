"""The one entry point to models: ``create_model(name)`` returns a loaded model.

Families are imported explicitly in :func:`_import_families`; registration never depends on import
order elsewhere. Duplicate and unknown names raise.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from models.base import Model
from models.errors import ModelNotFound

_MODELS: dict[str, type[Model]] = {}
_families_imported = False

M = TypeVar("M", bound=type[Model])


def register_model(cls: M) -> M:
    """Class decorator: register ``cls`` under ``cls.name``. A second class with the same name raises."""
    name = getattr(cls, "name", "")
    if not name:
        raise ValueError(f"{cls.__qualname__} has no model name")
    existing = _MODELS.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"model name {name!r} already registered by {existing.__module__}.{existing.__qualname__}")
    _MODELS[name] = cls
    return cls


def _import_families() -> None:
    global _families_imported
    if _families_imported:
        return
    import models.face.detect  # noqa: F401
    import models.face.match  # noqa: F401
    import models.face.quality  # noqa: F401
    import models.liveness.action  # noqa: F401
    import models.liveness.cnn  # noqa: F401
    import models.liveness.passive  # noqa: F401
    import models.ocr.model  # noqa: F401
    import models.speech.funasr_backend  # noqa: F401
    import models.speech.keywords  # noqa: F401
    import models.speech.sphinx  # noqa: F401
    import models.speech.tts  # noqa: F401

    _families_imported = True


def list_models() -> list[str]:
    """Sorted names of every registered model."""
    _import_families()
    return sorted(_MODELS)


def model_class(name: str) -> type[Model]:
    _import_families()
    try:
        return _MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, _MODELS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(_MODELS))}"
        raise ModelNotFound(f"unknown model {name!r}{hint}") from None


def create_model(name: str, path: str | Path | None = None, **config: Any) -> Model:
    """Instantiate model ``name`` with ``config`` and load its weights from ``path``.

    Without ``path`` the model's own default location is used (e.g. weights inside an installed wheel).
    """
    cls = model_class(name)
    model = cls(**config)
    model.load(path if path is not None else model.default_path())
    return model


