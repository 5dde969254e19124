"""Lay the bundled PP-OCRv6 ONNX models out as PaddleOCR 3 model directories.

PaddleOCR 3.5+ runs ONNX model directories with ``engine="onnxruntime"``: each directory holds
``inference.onnx`` and an ``inference.yml`` naming the model and its pre/post-processing. Laying out the
rapidocr wheel's models this way exercises PaddleOCR's real loading and decoding code on weights that
exist offline, and gives operators a template for their own exported models.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from models.errors import ModelLoadError
from models.ocr import engines


def _character_dict(rec_onnx: Path) -> list[str]:
    import onnxruntime as ort

    meta = ort.InferenceSession(str(rec_onnx), providers=["CPUExecutionProvider"]).get_modelmeta()
    chars = meta.custom_metadata_map.get("character", "")
    if not chars:
        raise ModelLoadError(f"{rec_onnx} carries no character dictionary in its metadata")
    return chars.splitlines()


def paddle_model_dirs(out: str | Path, source: str | Path | None = None) -> dict[str, Path]:
    """Write ``out/det`` and ``out/rec`` from the ONNX files in ``source`` (default: the rapidocr wheel)."""
    src = Path(source) if source else engines.wheel_models_dir()
    out = Path(out)
    det, rec = out / "det", out / "rec"
    for d in (det, rec):
        d.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / engines.DET, det / "inference.onnx")
    shutil.copy2(src / engines.REC, rec / "inference.onnx")
    det_cfg = {
        "Global": {"model_name": "PP-OCRv6_small_det"},
        "PreProcess": {"transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
            {"DetResizeForTest": {"limit_side_len": 736, "limit_type": "min"}},
            {"NormalizeImage": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "scale": 1 / 255, "order": "hwc"}},
            {"ToCHWImage": None},
            {"KeepKeys": {"keep_keys": ["image", "shape", "polys", "ignore_tags"]}},
        ]},
        "PostProcess": {"name": "DBPostProcess", "thresh": 0.3, "box_thresh": 0.5, "max_candidates": 1000,
                        "unclip_ratio": 1.6, "use_dilation": True, "score_mode": "fast"},
    }
    rec_cfg = {
        "Global": {"model_name": "PP-OCRv6_small_rec"},
        "PreProcess": {"transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
            {"RecResizeImg": {"image_shape": [3, 48, 320]}},
            {"KeepKeys": {"keep_keys": ["image", "length"]}},
        ]},
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": _character_dict(src / engines.REC)},
    }
    for d, cfg in ((det, det_cfg), (rec, rec_cfg)):
        (d / "inference.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return {"det": det, "rec": rec}
