"""Shared fixtures: real photos that ship inside installed packages, and loaded face models."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec and spec.submodule_search_locations, f"package {name} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


PHOTOS = {
    "t1": ("insightface", "data/images/t1.jpg"),  # 6 faces
    "hanks": ("insightface", "data/images/Tom_Hanks_54745.png"),
    "astronaut": ("skimage", "data/astronaut.png"),
    "grace": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
}


@pytest.fixture(scope="session", autouse=True)
def shared_cache(tmp_path_factory):
    """One cache for generated datasets and bootstrap-trained weights across every test store (and the
    CLI subprocesses, which inherit the environment), so the liveness default is trained once."""
    import os

    cache = tmp_path_factory.mktemp("veriserve_cache")
    old = os.environ.get("VERISERVE_CACHE")
    os.environ["VERISERVE_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("VERISERVE_CACHE", None)
    else:
        os.environ["VERISERVE_CACHE"] = old


@pytest.fixture(scope="session")
def photo_paths() -> dict[str, Path]:
    return {k: _package_dir(pkg) / rel for k, (pkg, rel) in PHOTOS.items()}


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def jpeg_bytes(image: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def detector():
    from models.registry import create_model

    return create_model("face-detect-dlib")


@pytest.fixture(scope="session")
def matcher():
    from models.registry import create_model

    return create_model("face-match-dlib")


@pytest.fixture(scope="session")
def t1_crops(photo_paths, detector) -> list[np.ndarray]:
    """Single-face crops of the six people in insightface's t1.jpg (box plus half a box of margin)."""
    from models.face.types import DetectInput

    image = rgb(photo_paths["t1"])
    crops = []
    for face in detector.predict(DetectInput(image=image)).faces:
        x1, y1, x2, y2 = (int(v) for v in face.box)
        m = (x2 - x1) // 2
        crops.append(np.ascontiguousarray(image[max(0, y1 - m):y2 + m, max(0, x1 - m):x2 + m]))
    assert len(crops) == 6
    return crops


@pytest.fixture(scope="session")
def bomb_png(tmp_path_factory) -> bytes:
    """A 12000x12000 PNG (144 MP) that compresses to a few hundred KB: a decompression bomb."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    Image.new("L", (12000, 12000), 0).save(path, format="PNG", optimize=False)
    return path.read_bytes()


@pytest.fixture(scope="session")
def no_face_image() -> np.ndarray:
    y, x = np.mgrid[0:240, 0:320]
    return np.stack([x % 256, y % 256, (x + y) % 256], axis=-1).astype(np.uint8)


@pytest.fixture(scope="session")
def tts():
    from models.registry import create_model

    return create_model("tts-espeak")


@pytest.fixture(scope="session")
def keyword_asr(shared_cache):
    """The Mandarin answer recogniser, trained once per session where the bootstrap would put it."""
    from models.errors import ModelLoadError
    from models.speech.keywords import KeywordASR
    from serving import store
    from training.speech.train import train

    path = store.cache_home() / "trained" / f"{KeywordASR.name}-seed0"
    model = KeywordASR()
    try:
        model.load(path)
    except ModelLoadError:
        train(path, seed=0)
        model.load(path)
    return model
