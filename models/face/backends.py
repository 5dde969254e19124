"""Backend selection and model cards for the face family (one place for both face models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.base import ModelCard, Threshold, describe_weights
from models.face import dlib_backend as dl
from models.face import insightface_backend as insf

DLIB_VERSION = "dlib-20.0.1+frm-0.3.0"
DLIB_PROVENANCE = (
    "dlib HOG frontal detector (built into dlib, trained by dlib's author on faces from LFW); "
    "5-point predictor trained on dlib's CC0 5-point landmark set (7198 faces); 68-point predictor on "
    "iBUG 300-W; ResNet embedding trained on ~3M faces (FaceScrub, VGG Face and web images) per dlib's "
    "release notes. Weights installed from the face-recognition-models 0.3.0 wheel."
)
INSIGHTFACE_PROVENANCE = (
    "insightface model pack supplied by the operator from a local directory (SCRFD detector trained on "
    "WIDER FACE; ArcFace recogniser on WebFace600K/MS1MV3 for buffalo_l). Digests pinned at first import."
)


def open_backend(backend: str, task: str, path: Path, config: dict[str, Any]):
    """Construct the named backend on weights in ``path`` with the model's config."""
    if backend == "dlib":
        return dl.DlibFaces(path, landmarks=config.get("landmarks", 68),
                            max_side_px=config.get("max_side_px", 1024),
                            min_margin=config.get("min_margin", 0.3))
    if backend == "insightface":
        return insf.InsightFaces(
            path,
            detector=config.get("detector", insf.DEFAULT_FILES["detector"]),
            recognizer=config.get("recognizer", insf.DEFAULT_FILES["recognizer"]) if task == "face-match"
            else None,
            landmarks=config.get("landmarks_file"),
            det_size_px=config.get("det_size_px", 640),
            det_thresh=config.get("det_thresh", 0.5),
        )
    raise ValueError(f"unknown face backend {backend!r}")


def default_dir(backend: str) -> Path:
    return dl.wheel_weights_dir() if backend == "dlib" else insf.default_pack_dir()


def card_for(
    *, name: str, task: str, backend: str, path: Path, config: dict[str, Any],
    thresholds: dict[str, Threshold] | None = None, metrics: dict[str, float] | None = None,
) -> ModelCard:
    """The card for ``backend`` weights at ``path``. dlib weights are pinned to known digests;
    an insightface pack without a ``card.json`` is pinned to the files present now."""
    common = {"name": name, "family": "face", "task": task, "thresholds": thresholds or {},
              "metrics": metrics or {}, "config": {k: v for k, v in config.items() if k != "threshold"}}
    if backend == "dlib":
        landmarks = config.get("landmarks", 68)
        files = dl.DlibFaces.weight_files(landmarks)
        if task == "face-match":
            files = [f for f in files if f != dl.SHAPE68]
        weights = [dl.KNOWN_WEIGHTS[f] for f in files]
        commercial = all("excludes commercial" not in w.licence for w in weights)
        return ModelCard(
            **common, version=DLIB_VERSION, backend="dlib",
            licence="dlib library: Boost Software License 1.0; weights: " + "; ".join(
                f"{w.path}: {w.licence}" for w in weights),
            commercial_use=commercial,
            data_provenance=DLIB_PROVENANCE,
            intended_use="1:1 verification of a cooperative customer against an ID photo; face detection "
                         "and landmarks for quality checks",
            preprocessing={"color": "RGB", "detector": "HOG, image shrunk to max_side_px "
                           f"{config.get('max_side_px', 1024)}, upsampled once below 800 px",
                           "landmarks": f"dlib {landmarks}-point", "embedding": "5-point aligned chip 150 px, "
                           "padding 0.25, 128-d, L2-normalised"},
            limitations=["HOG detector misses faces smaller than ~40 px and strongly rotated (> ~30° yaw)",
                         "published accuracy (LFW 99.38%) is on Western celebrity photos; calibrate on "
                         "the operator's population before relying on the threshold"],
            weights=weights,
        )
    names = [config.get("detector", insf.DEFAULT_FILES["detector"]), config.get("landmarks_file"),
             config.get("recognizer", insf.DEFAULT_FILES["recognizer"]) if task == "face-match" else None]
    files = {n: insf.LICENCE for n in names if n}
    return ModelCard(
        **common, version=f"pack:{path.name}", backend="insightface", licence=insf.LICENCE,
        commercial_use=False, data_provenance=INSIGHTFACE_PROVENANCE,
        intended_use="1:1 verification and detection where the operator holds a licence for the pack",
        preprocessing={"color": "BGR inside insightface", "detector": f"SCRFD {config.get('det_size_px', 640)} px",
                       "embedding": "ArcFace norm_crop 112 px, L2-normalised"},
        limitations=["pretrained insightface packs are non-commercial"],
        weights=describe_weights(path, files),
    )
