"""insightface backend: a model pack (SCRFD detector, ArcFace recogniser, optional 2d106 landmarks)
read from a local directory.

Which file plays which role is configuration (``detector=``, ``recognizer=``, ``landmarks=``), never
guessed from tensor shapes, and nothing is ever downloaded: a missing directory or file raises
:class:`ModelLoadError` naming the path. insightface's pretrained packs (buffalo_l, ...) are licensed
for non-commercial research only; the model card says so.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from models.errors import ModelLoadError
from models.face.types import Face

DEFAULT_PACK = "buffalo_l"
DEFAULT_FILES = {"detector": "det_10g.onnx", "recognizer": "w600k_r50.onnx", "landmarks": None}
LICENCE = (
    "insightface pretrained model packs: non-commercial research use only (insightface model zoo terms); "
    "a commercial deployment needs weights the operator is licensed to use"
)
MISSING_HINT = ("copy an insightface pack there (e.g. buffalo_l with det_10g.onnx and w600k_r50.onnx) "
                "or set VERISERVE_INSIGHTFACE_DIR")
_KEYPOINT_NAMES = ("eye_left", "eye_right", "nose", "mouth_left", "mouth_right")


def default_pack_dir() -> Path:
    """``$VERISERVE_INSIGHTFACE_DIR`` or ``~/.insightface/models/buffalo_l``."""
    env = os.environ.get("VERISERVE_INSIGHTFACE_DIR")
    return Path(env) if env else Path.home() / ".insightface" / "models" / DEFAULT_PACK


def _session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(os.environ.get("VERISERVE_ORT_THREADS", "1"))
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelLoadError(f"onnxruntime could not load {path}: {exc}") from exc


def role_files(pack_dir: Path, files: dict[str, str | None]) -> dict[str, Path]:
    """Map each configured role to its file in ``pack_dir``; raise naming any path that is missing."""
    if not pack_dir.is_dir():
        raise ModelLoadError(
            f"insightface model pack directory not found: {pack_dir} — {MISSING_HINT}; nothing is downloaded"
        )
    out = {}
    for role, name in files.items():
        if not name:
            continue
        p = pack_dir / name
        if not p.is_file():
            raise ModelLoadError(f"insightface {role} model not found: {p}")
        out[role] = p
    if "detector" not in out:
        raise ModelLoadError("insightface backend needs a detector file")
    return out


class InsightFaces:
    """Detect, landmark, crop and embed faces with insightface model_zoo classes on onnxruntime (CPU).

    Images in and out are RGB; insightface itself works in BGR, converted here.
    """

    def __init__(
        self,
        pack_dir: Path,
        *,
        detector: str = DEFAULT_FILES["detector"],
        recognizer: str | None = DEFAULT_FILES["recognizer"],
        landmarks: str | None = None,
        det_size_px: int = 640,
        det_thresh: float = 0.5,
    ) -> None:
        try:
            from insightface.model_zoo.arcface_onnx import ArcFaceONNX
            from insightface.model_zoo.landmark import Landmark
            from insightface.model_zoo.scrfd import SCRFD
        except ImportError as exc:
            raise ModelLoadError("the insightface backend needs 'pip install veriserve[insightface]'") from exc
        paths = role_files(pack_dir, {"detector": detector, "recognizer": recognizer, "landmarks": landmarks})
        self.files = {role: p.name for role, p in paths.items()}
        try:
            self._det = SCRFD(model_file=str(paths["detector"]), session=_session(paths["detector"]))
            self._det.prepare(-1, input_size=(det_size_px, det_size_px), det_thresh=det_thresh)
            self._rec = None
            if "recognizer" in paths:
                self._rec = ArcFaceONNX(model_file=str(paths["recognizer"]), session=_session(paths["recognizer"]))
            self._lmk = None
            if "landmarks" in paths:
                self._lmk = Landmark(model_file=str(paths["landmarks"]), session=_session(paths["landmarks"]))
        except ModelLoadError:
            raise
        except Exception as exc:
            raise ModelLoadError(f"insightface could not use the pack in {pack_dir}: {exc}") from exc
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an RGB image, largest first."""
        from insightface.app.common import Face as InsightFace

        bgr = np.ascontiguousarray(image[:, :, ::-1])
        with self._lock:
            boxes, kpss = self._det.detect(bgr)
            faces = []
            for i, row in enumerate(boxes):
                kps = [] if kpss is None else [(float(x), float(y)) for x, y in kpss[i]]
                landmarks, scheme = kps, "insightface5"
                if self._lmk is not None:
                    f = InsightFace(bbox=row[:4], kps=None if kpss is None else kpss[i], det_score=row[4])
                    pred = self._lmk.get(bgr, f)
                    landmarks, scheme = [(float(x), float(y)) for x, y in pred[:, :2]], "insightface106"
                faces.append(Face(
                    box=tuple(round(float(v), 2) for v in row[:4]),
                    score=round(float(row[4]), 4),
                    landmarks=landmarks,
                    landmark_scheme=scheme,
                    keypoints={n: (round(x, 2), round(y, 2)) for n, (x, y) in zip(_KEYPOINT_NAMES, kps, strict=False)},
                ))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def _five(self, face: Face) -> np.ndarray:
        if len(face.keypoints) < 5:
            raise ModelLoadError("the insightface detector gave no 5-point keypoints; use an SCRFD model with kps")
        return np.asarray([face.keypoints[n] for n in _KEYPOINT_NAMES], dtype=np.float32)

    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        """Unit-length ArcFace embedding of ``face``."""
        from insightface.utils import face_align

        if self._rec is None:
            raise ModelLoadError("this insightface pack was configured without a recognizer")
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        with self._lock:
            crop = face_align.norm_crop(bgr, landmark=self._five(face), image_size=self._rec.input_size[0])
            vec = np.asarray(self._rec.get_feat(crop), dtype=np.float64).ravel()
        return vec / max(np.linalg.norm(vec), 1e-12)

    def aligned_crop(self, image: np.ndarray, face: Face, size_px: int = 112) -> np.ndarray:
        """ArcFace-aligned crop (RGB, ``size_px`` square, a multiple of 112 or 128)."""
        from insightface.utils import face_align

        return face_align.norm_crop(image, landmark=self._five(face), image_size=size_px)
