"""Synthetic presentation attacks made from real face photos (``veriserve train liveness --synthetic``).

No public anti-spoofing data can be downloaded here, so attacks are simulated from bona fide crops:
- ``print``: CMYK-like halftone dots, paper fibre texture, gamut compression and a paper tint, a
  visible paper border, then re-captured (perspective, blur, JPEG);
- ``replay``: RGB sub-pixel grid, moiré between the screen and the sensor, display gamma, glare and
  a bezel, then re-captured;
- ``cutout``: a printed face with the real eye region showing through, and paper edges.
Bona fide samples get the same capture augmentation without the attack. Models trained on this data
must be retrained on real attacks before production; their cards say so.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from models.liveness.crops import face_crop

ATTACK_TYPES = ("print", "replay", "cutout")
CROP_PX = 256
CROP_SCALE = 2.2  # face box x this: the detector finds the face again and crops it at 1.6 like at inference


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def capture(img: np.ndarray, rng: np.random.Generator, clean: bool = False) -> np.ndarray:
    """What any camera does: small perspective and scale change, lighting, slight blur, sensor noise, JPEG.
    ``clean``: a good camera — light noise, no blur, high JPEG quality."""
    h, w = img.shape[:2]
    d = 0.04 * w
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = (src + rng.uniform(-d, d, src.shape)).astype(np.float32)
    out = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REFLECT)
    out = out.astype(np.float32) * rng.uniform(0.75, 1.2) + rng.uniform(-20, 20)
    if not clean and rng.random() < 0.4:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.0))
    out += rng.normal(0, rng.uniform(0.3, 1.0) if clean else rng.uniform(1.0, 3.5), out.shape)
    quality = int(rng.integers(88, 99)) if clean else int(rng.integers(60, 95))
    return _jpeg(np.clip(out, 0, 255).astype(np.uint8), quality)


def _halftone(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-channel dot screens at different angles: the rosette pattern of colour printing."""
    h, w = img.shape[:2]
    period = rng.uniform(2.5, 4.5)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty_like(img, dtype=np.float32)
    for c, angle in enumerate(np.radians([15.0, 75.0, 45.0]) + rng.uniform(0, 0.3)):
        u = xx * np.cos(angle) + yy * np.sin(angle)
        v = -xx * np.sin(angle) + yy * np.cos(angle)
        screen = (np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period) + 1) / 2  # 0..1
        ink = img[..., c].astype(np.float32) / 255.0
        out[..., c] = np.where(ink > screen * 0.9 + 0.05, 255.0, ink * 140.0)
    return cv2.GaussianBlur(out, (0, 0), 0.6)


def print_attack(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = _halftone(face, rng)
    fibre = cv2.GaussianBlur(rng.normal(0, 1, face.shape[:2]).astype(np.float32), (0, 0), rng.uniform(0.8, 2.0))
    img += (fibre * rng.uniform(4, 10))[..., None]
    img = 128 + (img - 128) * rng.uniform(0.6, 0.85)  # gamut / contrast compression of ink on paper
    img = img * np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.85, 0.95)], np.float32)  # warm paper tint
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:  # visible white border of the print
        b = int(rng.integers(4, 14))
        side = int(rng.integers(4))
        img = img.copy()
        [img[:b], img[-b:], img[:, :b], img[:, -b:]][side][...] = 235
    return capture(img, rng)


def replay_attack(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = face.shape[:2]
    img = face.astype(np.float32) / 255.0
    img = img ** rng.uniform(0.7, 1.4)  # display gamma
    pitch = int(rng.integers(3, 5))
    grid = np.zeros((h, w, 3), np.float32)
    for c in range(3):  # vertical R, G, B stripes of the sub-pixels
        grid[:, c::pitch, c] = 1.0
    grid = cv2.GaussianBlur(grid, (0, 0), 0.7) * 2.2 + 0.25
    img = img * grid
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle, freq = rng.uniform(0, np.pi), rng.uniform(0.08, 0.25)
    moire = 1 + rng.uniform(0.08, 0.2) * np.sin(freq * (xx * np.cos(angle) + yy * np.sin(angle)))
    img = img * moire[..., None]
    cx, cy, r = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h, rng.uniform(0.15, 0.4) * w
    glare = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))) * rng.uniform(0.2, 0.6)
    img = img + glare[..., None]
    img = np.clip(img * 255, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:  # dark bezel on one side
        b = int(rng.integers(5, 16))
        img = img.copy()
        [img[:b], img[-b:], img[:, :b], img[:, -b:]][int(rng.integers(4))][...] = 15
    return capture(img, rng)


def cutout_attack(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A printed face with the eye band cut out, so real skin/eyes show through."""
    printed = print_attack(face, rng)
    live = capture(face, rng)
    h, w = face.shape[:2]
    y1, y2 = int(h * rng.uniform(0.30, 0.36)), int(h * rng.uniform(0.44, 0.50))
    x1, x2 = int(w * 0.22), int(w * 0.78)
    out = printed.copy()
    out[y1:y2, x1:x2] = live[y1:y2, x1:x2]
    cv2.rectangle(out, (x1, y1), (x2, y2), (245, 245, 240), 1)  # paper edge of the hole
    return out


ATTACKS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "print": print_attack, "replay": replay_attack, "cutout": cutout_attack}


def subject_crop(image: np.ndarray, box, size: int = CROP_PX) -> np.ndarray:
    """A loose square crop around a face (``CROP_SCALE`` x the box) to make attacks from."""
    return face_crop(image, box, size=size, scale=CROP_SCALE)


def generate(faces: dict[str, np.ndarray], out_dir: str | Path, *, per_face: int = 8, seed: int = 0,
             progress: Callable[[int, int], None] | None = None) -> Path:
    """Write an ImageFolder dataset: ``live/<id>_<n>.jpg`` and ``spoof/<attack>/<id>_<n>.jpg``, from
    square face crops keyed by identity. ``per_face`` samples per class and identity."""
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    total, done = len(faces) * per_face * (1 + len(ATTACKS)), 0
    for ident, face in sorted(faces.items()):
        for n in range(per_face):
            samples = {Path("live"): capture(face, rng, clean=n % 2 == 0)}
            for name, attack in ATTACKS.items():
                samples[Path("spoof") / name] = attack(face, rng)
            for folder, img in samples.items():
                (out / folder).mkdir(parents=True, exist_ok=True)
                Image.fromarray(img).save(out / folder / f"{ident}_{n:03d}.jpg", quality=95)
                done += 1
                if progress:
                    progress(done, total)
    return out
