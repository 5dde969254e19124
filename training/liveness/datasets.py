"""Liveness dataset layouts -> a flat list of labelled samples.

- ImageFolder: ``<root>/live/*.jpg`` and ``<root>/spoof/<attack_type>/*.jpg`` (or ``spoof/*.jpg``);
  the subject is the file name up to its last ``_`` (``alice_003.jpg`` -> ``alice``).
- CelebA-Spoof: ``<root>/Data/<split>/<subject>/{live,spoof}/*``; attack types from
  ``<root>/metas/**/*label*.json`` when present (index 40 of each label list), else ``spoof``.
- OULU-NPU: ``<root>/<Train|Dev|Test>_files/<phone>_<session>_<user>_<file>.avi``; file 1 is bona fide,
  2–3 print, 4–5 replay; one frame from the middle of each video is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from models.errors import InvalidInput

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
BONA_FIDE = "bona_fide"
# CelebA-Spoof spoof_type (label index 40): 1-3 photo, 4-6 poster/A4/cut, 7-9 PC/pad/phone, 10 3-D mask
_CELEBA_TYPES = {1: "print", 2: "print", 3: "print", 4: "print", 5: "print", 6: "cutout", 7: "replay", 8: "replay",
                 9: "replay", 10: "mask"}
_OULU_TYPES = {"1": BONA_FIDE, "2": "print", "3": "print", "4": "replay", "5": "replay"}


@dataclass(frozen=True)
class Sample:
    path: Path
    attack: str  # BONA_FIDE or the attack type (PAI species)
    subject: str
    video: bool = False

    @property
    def live(self) -> bool:
        return self.attack == BONA_FIDE


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def _subject(path: Path) -> str:
    return path.stem.rsplit("_", 1)[0] if "_" in path.stem else path.stem


def load_dataset(root: str | Path) -> tuple[str, list[Sample]]:
    """(layout name, samples). Raises :class:`InvalidInput` naming the path when nothing matches."""
    root = Path(root)
    if not root.is_dir():
        raise InvalidInput(f"dataset directory not found: {root}")
    if (root / "live").is_dir() and (root / "spoof").is_dir():
        samples = [Sample(p, BONA_FIDE, _subject(p)) for p in _images(root / "live")]
        for p in _images(root / "spoof"):
            rel = p.relative_to(root / "spoof")
            samples.append(Sample(p, rel.parts[0] if len(rel.parts) > 1 else "spoof", _subject(p)))
        layout = "imagefolder"
    elif (root / "Data").is_dir():
        types: dict[str, int] = {}
        for meta in sorted((root / "metas").rglob("*label*.json")) if (root / "metas").is_dir() else []:
            for k, v in json.loads(meta.read_text(encoding="utf-8")).items():
                if isinstance(v, list) and len(v) > 40:
                    types[k] = int(v[40])
        samples = []
        for p in _images(root / "Data"):
            rel = p.relative_to(root)
            kind = rel.parts[-2]
            if kind not in ("live", "spoof"):
                continue
            attack = BONA_FIDE if kind == "live" else _CELEBA_TYPES.get(types.get(rel.as_posix(), 0), "spoof")
            samples.append(Sample(p, attack, rel.parts[-3]))
        layout = "celeba-spoof"
    elif any(root.glob("*_files")):
        samples = []
        for p in sorted(root.glob("*_files/*.avi")):
            parts = p.stem.split("_")
            if len(parts) == 4 and parts[3] in _OULU_TYPES:
                samples.append(Sample(p, _OULU_TYPES[parts[3]], parts[2], video=True))
        layout = "oulu-npu"
    else:
        raise InvalidInput(f"{root}: no known liveness layout (expected live/ + spoof/<type>/, "
                           f"Data/<split>/<subject>/{{live,spoof}}/, or <Split>_files/*.avi)")
    if not any(s.live for s in samples) or all(s.live for s in samples):
        raise InvalidInput(f"{root} ({layout}): need both bona fide and attack samples, found {len(samples)} files")
    return layout, samples
