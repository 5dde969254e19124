"""Face image quality measures, after the components of ISO/IEC 29794-5 (face image quality).

Pure functions on pixels and landmarks; units are in the names (px, deg). Each docstring names the
29794-5 component the measure stands for.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# 3-D head template (arbitrary units, ~5 per mm) in camera-like axes for a frontal face:
# x to the image's right, y down, z away from the camera; the nose tip is the origin.
TEMPLATE_3D = {
    "nose": (0.0, 0.0, 0.0),
    "chin": (0.0, 330.0, 65.0),
    "eye_left": (-155.0, -170.0, 135.0),
    "eye_right": (155.0, -170.0, 135.0),
    "eye_left_outer": (-225.0, -170.0, 135.0),
    "eye_right_outer": (225.0, -170.0, 135.0),
    "mouth_left": (-150.0, 150.0, 125.0),
    "mouth_right": (150.0, 150.0, 125.0),
}


def rotation_to_angles_deg(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from a rotation matrix R = Rz(roll) · Ry(yaw) · Rx(pitch).

    With the template axes above: yaw > 0 turns the nose toward the image's right, pitch > 0 tilts
    the chin toward the camera's up… see :func:`head_pose_deg` for the signs as users see them.
    """
    sy = math.hypot(rot[0, 0], rot[1, 0])
    pitch = math.degrees(math.atan2(rot[2, 1], rot[2, 2]))
    yaw = math.degrees(math.atan2(-rot[2, 0], sy))
    roll = math.degrees(math.atan2(rot[1, 0], rot[0, 0]))
    return yaw, pitch, roll


def head_pose_deg(points: dict[str, tuple[float, float]], image_size: tuple[int, int]) -> dict[str, float] | None:
    """Head pose (29794-5: pose, yaw/pitch/roll) by solvePnP of named 2-D landmarks on the 3-D template.

    Signs as a person sees the image: ``yaw_deg`` > 0 when the nose points to the image's right,
    ``pitch_deg`` > 0 when the face tilts up (nose rises), ``roll_deg`` > 0 when the head tilts
    clockwise in the image (the image-right eye is lower). Needs at least 5 template points;
    ``image_size`` is (width, height) px and sets a pinhole camera with focal length = width.
    """
    names = [n for n in TEMPLATE_3D if n in points]
    if len(names) < 5:
        return None
    obj = np.array([TEMPLATE_3D[n] for n in names], dtype=np.float64)
    img = np.array([points[n] for n in names], dtype=np.float64)
    w, h = image_size
    cam = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], dtype=np.float64)
    flag = cv2.SOLVEPNP_ITERATIVE if len(names) >= 6 else cv2.SOLVEPNP_EPNP
    ok, rvec, tvec = cv2.solvePnP(obj, img, cam, None, flags=flag)
    if not ok:
        return None
    if flag == cv2.SOLVEPNP_EPNP:  # refine
        ok, rvec, tvec = cv2.solvePnP(obj, img, cam, None, rvec, tvec, True, cv2.SOLVEPNP_ITERATIVE)
    rot, _ = cv2.Rodrigues(rvec)
    yaw, pitch, _ = rotation_to_angles_deg(rot)
    (lx, ly), (rx, ry) = points["eye_left"], points["eye_right"]
    roll = math.degrees(math.atan2(ry - ly, rx - lx))
    return {"yaw_deg": round(-yaw, 2), "pitch_deg": round(-pitch, 2), "roll_deg": round(roll, 2)}


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """Eye openness (29794-5: eyes open): (|p2-p6| + |p3-p5|) / (2 |p1-p4|) over the 6 dlib eye points."""
    a = np.linalg.norm(eye[1] - eye[5])
    b = np.linalg.norm(eye[2] - eye[4])
    c = np.linalg.norm(eye[0] - eye[3])
    return float((a + b) / (2.0 * c)) if c > 0 else 0.0


def mouth_aspect_ratio(inner_lips: np.ndarray) -> float:
    """Mouth openness (29794-5: mouth closed): inner-lip gap over inner-lip width, dlib points 60–67."""
    gap = np.mean([np.linalg.norm(inner_lips[1] - inner_lips[7]), np.linalg.norm(inner_lips[2] - inner_lips[6]),
                   np.linalg.norm(inner_lips[3] - inner_lips[5])])
    width = np.linalg.norm(inner_lips[0] - inner_lips[4])
    return float(gap / width) if width > 0 else 0.0


def luminance(image: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of an RGB uint8 image, float32 0–255."""
    return image[..., 0] * np.float32(0.299) + image[..., 1] * np.float32(0.587) + image[..., 2] * np.float32(0.114)


def sharpness(gray: np.ndarray, width_px: int = 128) -> float:
    """Focus (29794-5: sharpness): variance of the Laplacian relative to the variance of the crop
    (x100), after scaling the crop to ``width_px`` wide — so neither the face size nor its brightness
    or contrast changes the figure, only how much fine detail survives."""
    h, w = gray.shape[:2]
    if w < 4 or h < 4:
        return 0.0
    scaled = cv2.resize(gray.astype(np.float32), (width_px, max(4, round(h * width_px / w))),
                        interpolation=cv2.INTER_AREA)
    var = float(scaled.var())
    if var < 1e-6:
        return 0.0
    return 100.0 * float(cv2.Laplacian(scaled, cv2.CV_32F, ksize=3).var()) / var


def exposure(gray: np.ndarray, low: float = 30.0, high: float = 235.0) -> dict[str, float]:
    """Illumination (29794-5: exposure, dynamic range): mean, fractions under/over-exposed, contrast."""
    g = gray.astype(np.float32)
    p5, p95 = np.percentile(g, [5, 95])
    return {"brightness": round(float(g.mean()), 2), "underexposed_fraction": round(float((g < low).mean()), 4),
            "overexposed_fraction": round(float((g > high).mean()), 4), "contrast": round(float(g.std()), 2),
            "dynamic_range": round(float(p95 - p5), 2)}


def lighting_balance(gray_face: np.ndarray, gray_image: np.ndarray, box: tuple[int, int, int, int]) -> dict[str, float]:
    """Illumination uniformity (29794-5: uniform lighting, backlight): face-left vs face-right mean ratio
    (≥ 1) and background vs face mean ratio (> 1 means the background is brighter: backlight)."""
    h, w = gray_face.shape[:2]
    left, right = gray_face[:, : w // 2].mean() + 1.0, gray_face[:, w - w // 2:].mean() + 1.0
    x1, y1, x2, y2 = box
    mask = np.ones(gray_image.shape[:2], bool)
    mask[max(0, y1):y2, max(0, x1):x2] = False
    background = gray_image[mask].mean() + 1.0 if mask.any() else gray_face.mean() + 1.0
    return {"lr_ratio": round(float(max(left, right) / min(left, right)), 3),
            "backlight_ratio": round(float(background / (gray_face.mean() + 1.0)), 3)}


def occlusion(image: np.ndarray, landmarks68: np.ndarray) -> float:
    """Occlusion estimate (29794-5: face occlusion): fraction of the face hull below the eyes — the
    nose, cheeks and mouth area — whose chroma is far from the skin colour sampled on both cheeks.
    A hand, mask or scarf over the lower face raises it; glasses mostly do not."""
    hull = cv2.convexHull(landmarks68[np.r_[1:16, 29]].astype(np.int32))
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    ycrcb = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    cheeks = []
    for a, b in ((1, 31), (15, 35)):  # jaw side to nose side, one patch per cheek
        c = ((landmarks68[a] + landmarks68[b]) / 2).astype(int)
        r = max(2, int(np.linalg.norm(landmarks68[a] - landmarks68[b]) / 6))
        cheeks.append(ycrcb[max(0, c[1] - r):c[1] + r, max(0, c[0] - r):c[0] + r, 1:].reshape(-1, 2))
    skin = np.concatenate(cheeks)
    region = ycrcb[mask.astype(bool)][:, 1:]
    if len(skin) < 8 or len(region) == 0:
        return 0.0
    mean = skin.mean(axis=0)
    spread = np.maximum(skin.std(axis=0), 4.0)
    far = (np.abs(region - mean) / spread).max(axis=1) > 4.0
    return round(float(far.mean()), 4)
