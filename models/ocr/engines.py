"""Text detection + recognition engines: each turns an image into :class:`TextLine` records.

- :class:`RapidOcrEngine` — the embedded default: rapidocr 3.10 running the PP-OCRv6 small ONNX models
  that ship inside the ``rapidocr`` wheel, pinned by digest here and checked before loading.
- :class:`PaddleOcrEngine` — production: PaddleOCR 3.x pointed at local model directories
  (``text_detection_model_dir``, ``text_recognition_model_dir``, ``textline_orientation_model_dir``).

Neither ever downloads: every model path is given explicitly and must exist.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from models.base import WeightFile
from models.errors import ModelLoadError
from models.ocr.types import TextLine

DET = "PP-OCRv6_det_small.onnx"
REC = "PP-OCRv6_rec_small.onnx"
CLS = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
LICENCE_PPOCR = "Apache-2.0 (PaddleOCR models, redistributed in the rapidocr wheel; commercial use allowed)"

# The ONNX files shipped in rapidocr 3.10.0, pinned (size, SHA-256, SM3).
KNOWN_WEIGHTS: dict[str, WeightFile] = {
    DET: WeightFile(path=DET, size_bytes=9929594, licence=LICENCE_PPOCR,
                    sha256="090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
                    sm3="a759f2e37f8a3f677d2aaf4b0b277d9e5ae5a71db9b06fccfa3d8973ff86ddfe"),
    REC: WeightFile(path=REC, size_bytes=21234383, licence=LICENCE_PPOCR,
                    sha256="6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
                    sm3="59388cd14fab22894d98ceacdf4da6b37fa3bd1b222a4a11e99709a7090f4f68"),
    CLS: WeightFile(path=CLS, size_bytes=585532, licence=LICENCE_PPOCR,
                    sha256="e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
                    sm3="bdf19f0cb031918820d33751f5f9e91992f491447f11de68e5a3e24b05e53c42"),
}


def wheel_models_dir() -> Path:
    """The ``models/`` folder inside the installed rapidocr package."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("package rapidocr is not installed; install it with 'pip install rapidocr==3.10.0' "
                             "(the PP-OCRv6 ONNX models ship inside the wheel)")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _box(points: Any) -> list[tuple[float, float]]:
    return [(round(float(x), 1), round(float(y), 1)) for x, y in np.asarray(points).reshape(-1, 2)[:4]]


class RapidOcrEngine:
    """rapidocr with every model path given explicitly (its own resolver would download a missing one)."""

    backend = "rapidocr-3.10-onnxruntime"

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise ModelLoadError("rapidocr is not installed; install 'rapidocr==3.10.0'") from exc
        for name in (DET, REC, CLS):
            if not (model_dir / name).is_file():
                raise ModelLoadError(f"OCR model file missing: {model_dir / name}; nothing is downloaded")
        params = {
            "Global.log_level": "error",
            "Det.model_path": str(model_dir / DET),
            "Rec.model_path": str(model_dir / REC),
            "Cls.model_path": str(model_dir / CLS),
            "EngineConfig.onnxruntime.intra_op_num_threads": int(threads),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        self._ocr = RapidOCR(params=params)
        self._lock = threading.Lock()  # the rapidocr object keeps per-call state

    def read(self, image: np.ndarray, use_cls: bool = False) -> list[TextLine]:
        """Text lines of an RGB image, in reading order as the detector sorts them."""
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        with self._lock:
            out = self._ocr(bgr, use_cls=use_cls)
        if out is None or getattr(out, "txts", None) is None or out.boxes is None:
            return []
        return [TextLine(text=str(t), confidence=round(float(s), 4), box=_box(b))
                for t, s, b in zip(out.txts, out.scores, out.boxes, strict=True) if str(t).strip()]


class PaddleOcrEngine:
    """PaddleOCR 3.x on local model directories. ``dirs`` maps ``det`` / ``rec`` / ``cls`` to folders;
    ``engine`` is PaddleOCR's inference engine (``paddle``, or ``onnxruntime`` for ONNX model dirs)."""

    backend = "paddleocr-3"

    def __init__(self, dirs: dict[str, Path], engine: str | None = None, device: str = "cpu") -> None:
        for role in ("det", "rec"):
            if role not in dirs:
                raise ModelLoadError(f"PaddleOCR needs a local {role} model directory (config dirs.{role})")
        for role, d in dirs.items():
            if not Path(d).is_dir():
                raise ModelLoadError(f"PaddleOCR {role} model directory does not exist: {d} — copy the "
                                     "model there (inference.yml plus weights); nothing is downloaded")
            if not (Path(d) / "inference.yml").is_file():
                raise ModelLoadError(f"PaddleOCR {role} model directory {d} has no inference.yml; "
                                     "it is not a PaddleOCR 3 model directory")
        try:
            from paddleocr import PaddleOCR
        except ImportError as exc:
            raise ModelLoadError("paddleocr is not installed; install the 'paddle' extra "
                                 "(pip install 'veriserve[paddle]')") from exc
        kwargs: dict[str, Any] = {
            "text_detection_model_dir": str(dirs["det"]), "text_recognition_model_dir": str(dirs["rec"]),
            "use_doc_orientation_classify": False, "use_doc_unwarping": False,
            "use_textline_orientation": "cls" in dirs, "device": device,
        }
        for role, key in (("det", "text_detection_model_name"), ("rec", "text_recognition_model_name"),
                          ("cls", "textline_orientation_model_name")):
            if role in dirs:
                kwargs[key] = _model_name(Path(dirs[role]))
        if "cls" in dirs:
            kwargs["textline_orientation_model_dir"] = str(dirs["cls"])
        if engine:
            kwargs["engine"] = engine
        self._ocr = PaddleOCR(**kwargs)
        self._lock = threading.Lock()

    def read(self, image: np.ndarray, use_cls: bool = False) -> list[TextLine]:
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        with self._lock:
            results = self._ocr.predict(bgr, use_textline_orientation=use_cls)
        lines = []
        for res in results or []:
            data = res.json.get("res", res) if hasattr(res, "json") else res
            for t, s, b in zip(data["rec_texts"], data["rec_scores"], data["rec_polys"], strict=True):
                if str(t).strip():
                    lines.append(TextLine(text=str(t), confidence=round(float(s), 4), box=_box(b)))
        return lines


def _model_name(model_dir: Path) -> str:
    """``Global.model_name`` from a PaddleOCR model directory's ``inference.yml``."""
    import yaml

    try:
        data = yaml.safe_load((model_dir / "inference.yml").read_text(encoding="utf-8")) or {}
        return str(data["Global"]["model_name"])
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise ModelLoadError(f"{model_dir / 'inference.yml'}: cannot read Global.model_name ({exc})") from exc
