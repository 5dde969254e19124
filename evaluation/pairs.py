"""Pair datasets for 1:1 face verification.

- :func:`load_lfw_pairs`: the LFW ``pairs.txt`` layout (``name i j`` for a genuine pair,
  ``name1 i name2 j`` for an impostor pair; images at ``<root>/<name>/<name>_<i:04d>.jpg``), so an
  operator can run the evaluation on LFW or on their own data laid out the same way.
- :func:`demo_pairs`: a small set built offline from photos that ship inside installed packages
  (nine people) with realistic capture variations. Enough for FMR 1e-2 and 1e-3; not for 1e-4.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from models.errors import InvalidInput


@dataclass
class PairSet:
    """Images by key, and (key_a, key_b, genuine) pairs. ``groups`` maps identity -> group label."""

    name: str
    images: dict[str, np.ndarray]
    pairs: list[tuple[str, str, bool]]
    identity: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)

    def digest(self) -> str:
        """SHA-256 over every image's pixels and the pair list: the dataset's identity in MLflow."""
        h = hashlib.sha256()
        for key in sorted(self.images):
            h.update(key.encode())
            h.update(np.ascontiguousarray(self.images[key]).tobytes())
        for a, b, same in self.pairs:
            h.update(f"{a}|{b}|{int(same)}\n".encode())
        return h.hexdigest()


def _read(path: Path) -> np.ndarray:
    if not path.is_file():
        raise InvalidInput(f"pairs dataset: image not found: {path}")
    return np.asarray(Image.open(path).convert("RGB"))


def load_lfw_pairs(root: str | Path, pairs_file: str | Path | None = None, *, limit: int | None = None) -> PairSet:
    """Read an LFW-style pairs list. ``pairs_file`` defaults to ``<root>/pairs.txt``."""
    root = Path(root)
    pairs_path = Path(pairs_file) if pairs_file else root / "pairs.txt"
    if not pairs_path.is_file():
        raise InvalidInput(f"pairs file not found: {pairs_path}")
    lines = [ln.split() for ln in pairs_path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if lines and all(tok.isdigit() for tok in lines[0]):
        lines = lines[1:]  # header: "<folds> <pairs per fold>" or "<pairs>"
    images: dict[str, np.ndarray] = {}
    identity: dict[str, str] = {}
    pairs = []

    def key(name: str, num: str) -> str:
        k = f"{name}/{name}_{int(num):04d}.jpg"
        if k not in images:
            images[k] = _read(root / k)
            identity[k] = name
        return k

    for n, tok in enumerate(lines, start=2):
        if len(tok) == 3:
            pairs.append((key(tok[0], tok[1]), key(tok[0], tok[2]), True))
        elif len(tok) == 4:
            pairs.append((key(tok[0], tok[1]), key(tok[2], tok[3]), False))
        else:
            raise InvalidInput(f"{pairs_path}:{n}: expected 'name i j' or 'name1 i name2 j'")
        if limit and len(pairs) >= limit:
            break
    return PairSet(name=f"lfw-pairs:{root.name}", images=images, pairs=pairs, identity=identity)


def _package_file(pkg: str, rel: str) -> Path:
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput(f"demo pairs need the package {pkg!r} installed")
    return Path(next(iter(spec.submodule_search_locations))) / rel


def demo_people() -> dict[str, np.ndarray]:
    """Nine single-face photos: the six people of insightface's t1.jpg (cropped), Tom Hanks
    (insightface), the astronaut (scikit-image) and Grace Hopper (matplotlib)."""
    from models.face.types import DetectInput
    from models.registry import create_model

    t1 = np.asarray(Image.open(_package_file("insightface", "data/images/t1.jpg")).convert("RGB"))
    faces = create_model("face-detect-dlib", landmarks=5).predict(DetectInput(image=t1)).faces
    people = {}
    for n, face in enumerate(sorted(faces, key=lambda f: f.box[0])):
        x1, y1, x2, y2 = (int(v) for v in face.box)
        m = (x2 - x1) // 2
        people[f"t1_person{n}"] = np.ascontiguousarray(t1[max(0, y1 - m):y2 + m, max(0, x1 - m):x2 + m])
    people["tom_hanks"] = np.asarray(Image.open(_package_file("insightface", "data/images/Tom_Hanks_54745.png"))
                                     .convert("RGB"))
    people["astronaut"] = np.asarray(Image.open(_package_file("skimage", "data/astronaut.png")).convert("RGB"))
    people["grace_hopper"] = np.asarray(Image.open(_package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"))
                                        .convert("RGB"))
    return people


def augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One realistic capture variation: scale, small rotation, lighting, JPEG, and sometimes a partial crop."""
    h, w = image.shape[:2]
    scale = rng.uniform(0.9, 1.6)
    angle = rng.uniform(-8, 8)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    out = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    if scale < 1.0:  # keep the face large enough: upsample small results back
        out = cv2.resize(out, None, fx=1.3, fy=1.3, interpolation=cv2.INTER_CUBIC)
    gain, bias = rng.uniform(0.6, 1.3), rng.uniform(-25, 25)
    out = np.clip(out.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:  # partial crop: lose up to 10% on one side
        side, cut = int(rng.integers(4)), int(rng.uniform(0.04, 0.10) * min(out.shape[:2]))
        out = [out[cut:], out[:-cut], out[:, cut:], out[:, :-cut]][side]
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(out)).save(buf, format="JPEG", quality=int(rng.integers(35, 90)))
    return np.asarray(Image.open(buf).convert("RGB"))


def demo_pairs(variants: int = 12, seed: int = 0) -> PairSet:
    """All genuine pairs within each person's variants and all impostor pairs across people."""
    rng = np.random.default_rng(seed)
    images, identity = {}, {}
    for person, photo in demo_people().items():
        for v in range(variants):
            k = f"{person}/v{v:02d}"
            images[k] = photo if v == 0 else augment(photo, rng)
            identity[k] = person
    keys = sorted(images)
    pairs = [(a, b, identity[a] == identity[b]) for n, a in enumerate(keys) for b in keys[n + 1:]]
    return PairSet(name=f"demo-pairs:v{variants}:seed{seed}", images=images, pairs=pairs, identity=identity)
