"""dlib face backend: HOG detector, 5/68-point shape predictors and the 128-d ResNet embedding.

Weights come from the installed ``face-recognition-models`` wheel (found through the import system,
never downloaded) or from any directory holding the same files.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path

import numpy as np

from models.base import WeightFile
from models.errors import ModelLoadError
from models.face.types import Face, Point

RESNET = "dlib_face_recognition_resnet_model_v1.dat"
SHAPE5 = "shape_predictor_5_face_landmarks.dat"
SHAPE68 = "shape_predictor_68_face_landmarks.dat"

LICENCE_CC0 = "CC0 1.0 (dlib-models README: free for any use, including commercial)"
LICENCE_300W = (
    "trained on iBUG 300-W, whose licence excludes commercial use (dlib-models README); "
    "configure landmarks=5 for commercial deployments"
)

# The weight files shipped in face-recognition-models 0.3.0, pinned (size, SHA-256, SM3).
KNOWN_WEIGHTS: dict[str, WeightFile] = {
    RESNET: WeightFile(
        path=RESNET,
        size_bytes=22466066,
        sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        sm3="9e73311b0b1a6557de0d2eedfefffddad8c3151b8e62a9e74fcbec07cda472a4",
        licence=LICENCE_CC0,
    ),
    SHAPE5: WeightFile(
        path=SHAPE5,
        size_bytes=9150489,
        sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        sm3="77bb2cdf56b6897a3018494bc3d227facd3528690ec28cffbbb9792aa2cc0591",
        licence=LICENCE_CC0,
    ),
    SHAPE68: WeightFile(
        path=SHAPE68,
        size_bytes=99693937,
        sha256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
        sm3="961606dc1c29c588f483470c7cc84a3041b86fd06307c3f97e6eef636e247b08",
        licence=LICENCE_300W,
    ),
}


def wheel_weights_dir() -> Path:
    """The ``models/`` folder inside the installed face-recognition-models package (not imported:
    its ``__init__`` needs ``pkg_resources``)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "package face-recognition-models is not installed; install it with "
            "'pip install face-recognition-models==0.3.0' (weights ship inside the wheel)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _import_dlib():
    try:
        import dlib
    except ImportError as exc:
        raise ModelLoadError("dlib is not installed; install 'dlib-bin'") from exc
    return dlib


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _keypoints(points: list[Point], scheme: str) -> dict[str, Point]:
    p = np.asarray(points, dtype=np.float64)
    if scheme == "dlib68":
        eyes = [p[36:42].mean(axis=0), p[42:48].mean(axis=0)]
        named = {"nose": p[30], "mouth_left": p[48], "mouth_right": p[54], "chin": p[8]}
    else:  # dlib5: two corners per eye, then the base of the nose
        eyes = [p[0:2].mean(axis=0), p[2:4].mean(axis=0)]
        named = {"nose": p[4]}
    eyes.sort(key=lambda e: e[0])
    named = {"eye_left": eyes[0], "eye_right": eyes[1], **named}
    return {k: (round(float(v[0]), 2), round(float(v[1]), 2)) for k, v in named.items()}


class HogDetector:
    """dlib's HOG frontal face detector (built into dlib: no weight file). Boxes only.

    ``max_side_px``: images are shrunk to this before detection (boxes are mapped back); images under
    800 px are upsampled once. ``min_margin``: SVM margin a detection needs (0 is dlib's own cut).
    """

    def __init__(self, *, max_side_px: int = 1024, min_margin: float = 0.3) -> None:
        self._detector = _import_dlib().get_frontal_face_detector()
        self.max_side_px = max_side_px
        self.min_margin = min_margin
        self._lock = threading.Lock()

    def boxes(self, image: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        """``[(box x1,y1,x2,y2 px, confidence 0-1)]`` in detector order."""
        import cv2

        h, w = image.shape[:2]
        scale = min(1.0, self.max_side_px / max(h, w))
        small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
            if scale < 1.0 else image
        upsample = 1 if max(small.shape[:2]) < 800 else 0
        with self._lock:
            rects, scores, _ = self._detector.run(small, upsample, self.min_margin)
        out = []
        for r, margin in zip(rects, scores, strict=True):
            box = tuple(round(v / scale, 2) for v in (r.left(), r.top(), r.right(), r.bottom()))
            out.append((box, round(_sigmoid(float(margin)), 4)))
        return out


class DlibFaces:
    """Detect, landmark, crop and embed faces with dlib.

    ``landmarks`` is 68 (richer, non-commercial weights) or 5 (commercially usable); the embedding
    always aligns with the 5-point predictor, as dlib's ResNet was trained that way.
    ``max_side_px``: images are shrunk to this before HOG detection (boxes are mapped back).
    ``min_margin``: HOG SVM margin a detection needs (0 is dlib's own cut; 0.3 drops most false hits
    on clothing and badges at little cost for cooperative, frontal faces).
    """

    def __init__(self, weights_dir: Path, *, landmarks: int = 68, max_side_px: int = 1024,
                 min_margin: float = 0.3) -> None:
        if landmarks not in (5, 68):
            raise ModelLoadError(f"landmarks must be 5 or 68, not {landmarks}")
        dlib = _import_dlib()
        self._dlib = dlib
        self.landmarks = landmarks
        self.max_side_px = max_side_px
        self.min_margin = min_margin
        self._hog = HogDetector(max_side_px=max_side_px, min_margin=min_margin)
        try:
            self._shape5 = dlib.shape_predictor(str(weights_dir / SHAPE5))
            self._shape68 = dlib.shape_predictor(str(weights_dir / SHAPE68)) if landmarks == 68 else None
            self._resnet = dlib.face_recognition_model_v1(str(weights_dir / RESNET))
        except RuntimeError as exc:
            raise ModelLoadError(f"dlib could not read weights in {weights_dir}: {exc}") from exc
        self._lock = threading.Lock()  # dlib objects are not documented as thread-safe

    @staticmethod
    def weight_files(landmarks: int) -> list[str]:
        return [RESNET, SHAPE5] + ([SHAPE68] if landmarks == 68 else [])

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an RGB image, largest first."""
        with self._lock:
            faces = []
            for box, score in self._hog.boxes(image):
                full = self._dlib.rectangle(*(round(v) for v in box))
                predictor, scheme = (self._shape68, "dlib68") if self._shape68 else (self._shape5, "dlib5")
                shape = predictor(image, full)
                points = [(float(pt.x), float(pt.y)) for pt in shape.parts()]
                faces.append(Face(box=box, score=score, landmarks=points, landmark_scheme=scheme,
                                  keypoints=_keypoints(points, scheme)))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def _shape5_of(self, image: np.ndarray, face: Face):
        rect = self._dlib.rectangle(*(round(v) for v in face.box))
        return self._shape5(image, rect)

    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        """Unit-length 128-d embedding of ``face``."""
        with self._lock:
            shape = self._shape5_of(image, face)
            vec = np.asarray(self._resnet.compute_face_descriptor(image, shape, 0, 0.25), dtype=np.float64)
        return vec / max(np.linalg.norm(vec), 1e-12)

    def aligned_crop(self, image: np.ndarray, face: Face, size_px: int = 150) -> np.ndarray:
        """Face chip aligned on the 5 landmarks (eyes level, centred), ``size_px`` square, RGB."""
        with self._lock:
            shape = self._shape5_of(image, face)
            return np.asarray(self._dlib.get_face_chip(image, shape, size=size_px, padding=0.25))
