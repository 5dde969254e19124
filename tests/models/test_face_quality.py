"""Face quality on real photos, and the measure functions on hand-computed examples."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from models.errors import InvalidInput
from models.face import measures
from models.face.types import QualityInput
from models.registry import create_model
from tests.conftest import rgb


@pytest.fixture(scope="module")
def quality():
    return create_model("face-quality-dlib")


@pytest.fixture(scope="module")
def grace(photo_paths):
    return rgb(photo_paths["grace"])


def _check(out, name):
    return next(c for c in out.checks if c.name == name)


def test_good_portrait_passes_with_measures_in_units(quality, grace):
    out = quality.predict(QualityInput(image=grace))
    assert out.passed and out.face_count == 1 and out.score >= 80 and not out.reasons
    m = out.measures
    assert 60 < m["inter_eye_px"] < 110
    assert abs(m["yaw_deg"]) < 10 and abs(m["roll_deg"]) < 8
    assert m["eyes_open"] is True and m["in_frame"] is True
    assert {c.name for c in out.checks} >= {"single_face", "face_size", "yaw", "pitch", "roll", "sharpness",
                                            "underexposure", "backlight", "eyes_open", "mouth_closed", "occlusion",
                                            "in_frame"}


def test_darkened_photo_fails_exposure_with_the_reason(quality, grace):
    out = quality.predict(QualityInput(image=(grace * 0.3).astype(np.uint8)))
    assert not out.passed
    assert _check(out, "underexposure").passed is False
    assert any("too dark" in r for r in out.reasons)


def test_blurred_photo_fails_sharpness(quality, grace):
    out = quality.predict(QualityInput(image=cv2.GaussianBlur(grace, (0, 0), 4)))
    assert _check(out, "sharpness").passed is False
    assert any("blurred" in r for r in out.reasons)


def test_face_cut_by_the_frame_edge_fails_in_frame(quality, grace):
    out = quality.predict(QualityInput(image=np.ascontiguousarray(grace[:, 200:])))
    assert out.face_count == 1
    assert _check(out, "in_frame").passed is False and out.measures["in_frame"] is False
    assert any("edge" in r for r in out.reasons)


def test_guide_box_elsewhere_fails_in_frame(quality, grace):
    assert quality.predict(QualityInput(image=grace, guide_box=(100, 80, 450, 420))).passed
    out = quality.predict(QualityInput(image=grace, guide_box=(0, 350, 250, 600)))
    assert any("guide" in r for r in out.reasons)
    with pytest.raises(InvalidInput, match="guide_box"):
        quality.predict(QualityInput(image=grace, guide_box=(0, 0, 9000, 10)))


def test_squeezed_face_reads_as_more_turned(quality, grace):
    base = quality.predict(QualityInput(image=grace)).measures["yaw_deg"]
    squeezed = cv2.resize(grace, (grace.shape[1] // 2, grace.shape[0]))
    assert abs(quality.predict(QualityInput(image=squeezed)).measures["yaw_deg"]) > abs(base) + 5


@pytest.mark.parametrize("angle", [12, -12])
def test_rotated_face_changes_roll_in_the_right_direction(quality, grace, angle):
    base = quality.predict(QualityInput(image=grace)).measures["roll_deg"]
    h, w = grace.shape[:2]
    rotated = cv2.warpAffine(grace, cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), (w, h),
                             borderMode=cv2.BORDER_REFLECT)
    roll = quality.predict(QualityInput(image=rotated)).measures["roll_deg"]
    # OpenCV's positive angle turns the image counter-clockwise; our roll is clockwise-positive
    assert roll - base == pytest.approx(-angle, abs=3)


def test_group_photo_fails_the_single_face_check(quality, photo_paths):
    out = quality.predict(QualityInput(image=rgb(photo_paths["t1"])))
    assert out.face_count == 6 and not out.passed
    assert _check(out, "single_face").passed is False
    assert out.reasons[0] == "6 faces in the image; exactly one is required"
    assert len(out.faces) == 6


def test_no_face(quality, no_face_image):
    out = quality.predict(QualityInput(image=no_face_image))
    assert out.face_count == 0 and out.score == 0 and out.reasons == ["no face found"]


def test_backlit_face_is_flagged(quality, grace):
    back = np.full_like(grace, 250)
    x1, y1, x2, y2 = 150, 100, 400, 380
    back[y1:y2, x1:x2] = (grace[y1:y2, x1:x2] * 0.5).astype(np.uint8)
    out = quality.predict(QualityInput(image=back))
    assert _check(out, "backlight").passed is False


def test_five_point_landmarks_leave_eye_checks_not_assessed(grace):
    out = create_model("face-quality-dlib", landmarks=5).predict(QualityInput(image=grace))
    assert _check(out, "eyes_open").passed is None and out.measures["yaw_deg"] is None
    assert out.measures["roll_deg"] is not None and out.passed


def test_limits_come_from_config(grace):
    strict = create_model("face-quality-dlib", limits={"min_inter_eye_px": 200})
    out = strict.predict(QualityInput(image=grace))
    assert not out.passed and any("too small" in r for r in out.reasons)


def test_insightface_quality_uses_the_same_pose_code(tmp_path):
    from tests.tiny_insightface import make_pack, square_image

    model = create_model("face-quality-insightface", make_pack(tmp_path), det_size_px=320)
    out = model.predict(QualityInput(image=square_image(128, 96)))
    assert out.face_count == 1
    m = out.measures
    assert m["yaw_deg"] is not None and m["pitch_deg"] is not None and m["eye_aspect_ratio"] is None


# --- measure functions on hand-computed examples --------------------------------------------

def _project(yaw=0.0, pitch=0.0, roll=0.0):
    def rx(a):
        a = math.radians(a)
        return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])

    def ry(a):
        a = math.radians(a)
        return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])

    def rz(a):
        a = math.radians(a)
        return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])

    rot = rz(roll) @ ry(yaw) @ rx(pitch)
    cam = np.array([[640, 0, 320], [0, 640, 240], [0, 0, 1.0]])
    pts = {}
    for n in ("nose", "chin", "eye_left", "eye_right", "mouth_left", "mouth_right"):
        p = cam @ (rot @ np.array(measures.TEMPLATE_3D[n]) + [0, 0, 3000.0])
        pts[n] = (p[0] / p[2], p[1] / p[2])
    return pts


def test_head_pose_recovers_known_rotations_with_user_facing_signs():
    assert measures.head_pose_deg(_project(), (640, 480)) == {"yaw_deg": 0.0, "pitch_deg": 0.0, "roll_deg": 0.0}
    turned = _project(yaw=-20)  # rotating the head this way moves the eyes left of the nose...
    assert turned["nose"][0] > (turned["eye_left"][0] + turned["eye_right"][0]) / 2  # ...nose points right
    assert measures.head_pose_deg(turned, (640, 480))["yaw_deg"] == pytest.approx(20, abs=0.5)
    up = _project(pitch=-15)
    assert measures.head_pose_deg(up, (640, 480))["pitch_deg"] == pytest.approx(15, abs=0.5)
    tilted = measures.head_pose_deg(_project(roll=10), (640, 480))
    assert tilted["roll_deg"] == pytest.approx(10, abs=0.5)
    five = {k: v for k, v in _project(yaw=15).items() if k != "chin"}
    assert measures.head_pose_deg(five, (640, 480))["yaw_deg"] == pytest.approx(-15, abs=1)
    assert measures.head_pose_deg({"eye_left": (0, 0), "eye_right": (1, 0)}, (640, 480)) is None


def test_eye_and_mouth_aspect_ratios_by_hand():
    eye = np.array([[0, 0], [1, -1], [2, -1], [3, 0], [2, 1], [1, 1]], float)  # height 2, width 3
    assert measures.eye_aspect_ratio(eye) == pytest.approx((2 + 2) / (2 * 3))
    lips = np.array([[0, 0], [1, -1], [2, -1], [3, -1], [4, 0], [3, 1], [2, 1], [1, 1]], float)
    assert measures.mouth_aspect_ratio(lips) == pytest.approx(2 / 4)


def test_exposure_and_sharpness_by_hand():
    gray = np.zeros((10, 10), np.float32)
    gray[:, 5:] = 255
    e = measures.exposure(gray)
    assert e["brightness"] == pytest.approx(127.5) and e["underexposed_fraction"] == 0.5
    assert e["overexposed_fraction"] == 0.5 and e["contrast"] == pytest.approx(127.5)
    assert measures.sharpness(np.full((50, 50), 128.0)) == 0.0
    rng = np.random.default_rng(0)
    texture = rng.uniform(0, 255, (64, 64)).astype(np.float32)
    assert measures.sharpness(texture) == pytest.approx(measures.sharpness(texture * 0.3 + 10), rel=1e-3)
    assert measures.sharpness(cv2.GaussianBlur(texture, (0, 0), 3)) < measures.sharpness(texture) / 10
