"""Face image quality (``face-quality-dlib``, ``face-quality-insightface``), seed clause 8.4b.

Every check reports its value, its limit and, when it fails, a reason a person understands. Measures
follow the components of ISO/IEC 29794-5 (see :mod:`models.face.measures`). Limits are configuration
(``limits`` in the model config, :class:`QualityLimits` for defaults and units).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from models.base import Model, ModelCard
from models.errors import InvalidInput
from models.evidence import Evidence, ModelRef
from models.face import backends, insightface_backend, measures
from models.face.types import Face, FaceQuality, QualityCheck, QualityInput, QualityOutput
from models.imageio import check_array
from models.registry import register_model


class QualityLimits(BaseModel):
    """Pass limits. px = pixels in the input image, deg = degrees, 0–255 = 8-bit luma."""

    model_config = ConfigDict(extra="forbid")

    min_inter_eye_px: float = 40.0
    max_abs_yaw_deg: float = 25.0
    max_abs_pitch_deg: float = 30.0
    max_abs_roll_deg: float = 20.0
    min_sharpness: float = 25.0
    min_brightness: float = 70.0
    max_brightness: float = 200.0
    max_underexposed_fraction: float = 0.30
    max_overexposed_fraction: float = 0.15
    min_contrast: float = 18.0
    max_lr_ratio: float = 1.7
    max_backlight_ratio: float = 1.8
    min_eye_aspect_ratio: float = 0.18
    max_mouth_aspect_ratio: float = 0.35
    max_occlusion: float = 0.30
    in_frame_tolerance: float = 0.05
    default_guide: tuple[float, float, float, float] = (0.05, 0.03, 0.95, 0.97)


# check name -> (measure key, limit field, "min" | "max" | "abs_max", failure reason)
_CHECKS: list[tuple[str, str, str, str, str]] = [
    ("face_size", "inter_eye_px", "min_inter_eye_px", "min", "face too small (eyes {v:.0f} px apart, need {l:.0f})"),
    ("yaw", "yaw_deg", "max_abs_yaw_deg", "abs_max", "head turned {v:+.0f}° (limit ±{l:.0f}°): look at the camera"),
    ("pitch", "pitch_deg", "max_abs_pitch_deg", "abs_max", "head tilted {v:+.0f}° up/down (limit ±{l:.0f}°)"),
    ("roll", "roll_deg", "max_abs_roll_deg", "abs_max", "head tilted {v:+.0f}° sideways (limit ±{l:.0f}°)"),
    ("sharpness", "sharpness", "min_sharpness", "min", "image blurred (sharpness {v:.0f}, need {l:.0f})"),
    ("underexposure", "brightness", "min_brightness", "min", "face too dark (brightness {v:.0f}/255, need {l:.0f})"),
    ("overexposure", "brightness", "max_brightness", "max", "face too bright (brightness {v:.0f}/255, max {l:.0f})"),
    ("dark_pixels", "underexposed_fraction", "max_underexposed_fraction", "max",
     "{v:.0%} of the face is underexposed (max {l:.0%})"),
    ("bright_pixels", "overexposed_fraction", "max_overexposed_fraction", "max",
     "{v:.0%} of the face is overexposed (max {l:.0%})"),
    ("contrast", "contrast", "min_contrast", "min", "low contrast on the face ({v:.0f}, need {l:.0f})"),
    ("uneven_light", "lr_ratio", "max_lr_ratio", "max", "uneven light: one side of the face {v:.1f}x brighter"),
    ("backlight", "backlight_ratio", "max_backlight_ratio", "max",
     "backlit: background {v:.1f}x brighter than the face (max {l:.1f}x)"),
    ("eyes_open", "eye_aspect_ratio", "min_eye_aspect_ratio", "min", "eyes closed or hidden (EAR {v:.2f})"),
    ("mouth_closed", "mouth_aspect_ratio", "max_mouth_aspect_ratio", "max", "mouth open (MAR {v:.2f})"),
    ("occlusion", "occlusion", "max_occlusion", "max", "face partly covered ({v:.0%} of the lower face)"),
]


def _subscore(value: float, limit: float, kind: str) -> float:
    """0–1 margin score: 0.6 exactly at the limit, 1 comfortably inside, falling to 0 well outside."""
    if kind == "min":
        return float(np.clip(0.6 + 0.4 * (value - limit) / max(abs(limit), 1e-6), 0.0, 1.0))
    v = abs(value) if kind == "abs_max" else value
    return float(np.clip(0.6 + 0.8 * (limit - v) / max(abs(limit), 1e-6), 0.0, 1.0))


def _in_frame(box, guide, image_w: int, image_h: int, tol: float) -> tuple[bool, str]:
    x1, y1, x2, y2 = box
    gx1, gy1, gx2, gy2 = guide
    slack_x, slack_y = tol * (x2 - x1), tol * (y2 - y1)
    if x1 <= 1 or y1 <= 1 or x2 >= image_w - 2 or y2 >= image_h - 2:
        return False, "face cut by the edge of the image"
    inside = x1 >= gx1 - slack_x and y1 >= gy1 - slack_y and x2 <= gx2 + slack_x and y2 <= gy2 + slack_y
    return inside, "" if inside else "face not inside the guide frame"


class FaceQualityModel(Model[QualityInput, QualityOutput]):
    """Check whether an image holds exactly one usable face, and say why not."""

    backend: ClassVar[str]
    input_type = QualityInput
    output_type = QualityOutput

    def default_path(self) -> Path:
        return backends.default_dir(self.backend)

    def default_card(self, path: Path) -> ModelCard:
        return backends.card_for(name=self.name, task="face-quality", backend=self.backend, path=path,
                                 config=self.config)

    def load(self, path: str | Path) -> None:
        card = self.resolve_card(path)
        self.faces = backends.open_backend(self.backend, "face-quality", Path(path), self.config)
        self.limits = QualityLimits.model_validate(self.config.get("limits", {}))
        self.card = card

    def face_measures(self, image: np.ndarray, gray: np.ndarray, face: Face) -> dict[str, float | bool | None]:
        """All measures of one face (units in the keys)."""
        h, w = gray.shape
        kp = face.keypoints
        (lx, ly), (rx, ry) = kp["eye_left"], kp["eye_right"]
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        crop_box = (max(0, x1), max(0, y1), min(w, x2), min(h, y2))
        face_gray = gray[crop_box[1]:crop_box[3], crop_box[0]:crop_box[2]]
        m: dict[str, float | bool | None] = {"inter_eye_px": round(float(np.hypot(rx - lx, ry - ly)), 2)}
        pose = measures.head_pose_deg(kp, (w, h))
        if pose is None:  # too few landmarks for PnP: roll from the eye line only
            pose = {"yaw_deg": None, "pitch_deg": None,
                    "roll_deg": round(float(np.degrees(np.arctan2(ry - ly, rx - lx))), 2)}
        m.update(pose)
        m["sharpness"] = round(measures.sharpness(face_gray), 2) if face_gray.size else 0.0
        m.update(measures.exposure(face_gray) if face_gray.size else {})
        m.update(measures.lighting_balance(face_gray, gray, crop_box) if face_gray.size else {})
        pts = np.asarray(face.landmarks, dtype=np.float64)
        if face.landmark_scheme == "dlib68":
            m["eye_aspect_ratio"] = round(min(measures.eye_aspect_ratio(pts[36:42]),
                                              measures.eye_aspect_ratio(pts[42:48])), 4)
            m["mouth_aspect_ratio"] = round(measures.mouth_aspect_ratio(pts[60:68]), 4)
            m["occlusion"] = measures.occlusion(image, pts)
        else:
            m["eye_aspect_ratio"] = m["mouth_aspect_ratio"] = m["occlusion"] = None
        return m

    def _checks(self, m: dict, face: Face, guide, w: int, h: int) -> list[QualityCheck]:
        lim = self.limits
        checks = []
        for name, key, limit_field, kind, reason in _CHECKS:
            value, limit = m.get(key), getattr(lim, limit_field)
            label = {"min": f">= {limit}", "max": f"<= {limit}", "abs_max": f"|x| <= {limit}"}[kind]
            if value is None:
                checks.append(QualityCheck(name=name, value=None, limit=label, passed=None,
                                           reason="not assessed with these landmarks"))
                continue
            v = abs(value) if kind == "abs_max" else value
            ok = v >= limit if kind == "min" else v <= limit
            checks.append(QualityCheck(name=name, value=float(value), limit=label, passed=ok,
                                       reason="" if ok else reason.format(v=value, l=limit)))
        ok, why = _in_frame(face.box, guide, w, h, lim.in_frame_tolerance)
        checks.append(QualityCheck(name="in_frame", value=float(ok), limit="inside guide", passed=ok, reason=why))
        m["in_frame"] = ok
        if m.get("eye_aspect_ratio") is not None:
            m["eyes_open"] = m["eye_aspect_ratio"] >= lim.min_eye_aspect_ratio
        return checks

    def _score(self, m: dict) -> float:
        subs = []
        for _, key, limit_field, kind, _ in _CHECKS:
            if m.get(key) is not None:
                subs.append(_subscore(float(m[key]), getattr(self.limits, limit_field), kind))
        subs.append(1.0 if m["in_frame"] else 0.3)
        return round(100.0 * (0.5 * float(np.mean(subs)) + 0.5 * min(subs)), 2)

    def assess(self, image: np.ndarray, face: Face, guide=None, gray: np.ndarray | None = None) -> FaceQuality:
        """Quality of one already-detected face."""
        h, w = image.shape[:2]
        gray = measures.luminance(image) if gray is None else gray
        lim = self.limits
        guide = guide or (lim.default_guide[0] * w, lim.default_guide[1] * h,
                          lim.default_guide[2] * w, lim.default_guide[3] * h)
        m = self.face_measures(image, gray, face)
        checks = self._checks(m, face, guide, w, h)
        passed = all(c.passed is not False for c in checks)
        return FaceQuality(face=face, score=self._score(m), passed=passed, measures=m, checks=checks)

    def predict(self, inp: QualityInput) -> QualityOutput:
        image = check_array(inp.image)
        h, w = image.shape[:2]
        if inp.guide_box is not None:
            gx1, gy1, gx2, gy2 = inp.guide_box
            if not (0 <= gx1 < gx2 <= w and 0 <= gy1 < gy2 <= h):
                raise InvalidInput(f"guide_box {list(inp.guide_box)} must lie inside the {w}x{h} image")
        t0 = time.perf_counter()
        faces = self.faces.detect(image)
        t1 = time.perf_counter()
        gray = measures.luminance(image)
        assessed = [self.assess(image, f, inp.guide_box, gray) for f in faces]
        t2 = time.perf_counter()
        count_ok = len(faces) == 1
        count_check = QualityCheck(
            name="single_face", value=float(len(faces)), limit="== 1", passed=count_ok,
            reason="" if count_ok else ("no face found" if not faces
                                        else f"{len(faces)} faces in the image; exactly one is required"))
        primary = assessed[0] if assessed else None
        checks = [count_check] + (primary.checks if primary else [])
        reasons = [c.reason for c in checks if c.passed is False]
        score = primary.score if primary and count_ok else (round(primary.score * 0.5, 2) if primary else 0.0)
        return QualityOutput(
            face_count=len(faces), score=score, passed=count_ok and bool(primary and primary.passed),
            reasons=reasons, measures=primary.measures if primary else {}, checks=checks, faces=assessed,
            evidence=Evidence(models=[ModelRef.of(self.card)], scores={"quality": score},
                              reasons=reasons or ["all quality checks passed"],
                              timings_ms={"detect": round((t1 - t0) * 1000, 2),
                                          "measure": round((t2 - t1) * 1000, 2)}),
        )


@register_model
class DlibFaceQuality(FaceQualityModel):
    name = "face-quality-dlib"
    backend = "dlib"


@register_model
class InsightFaceQuality(FaceQualityModel):
    name = "face-quality-insightface"
    backend = "insightface"
    missing_hint = insightface_backend.MISSING_HINT
