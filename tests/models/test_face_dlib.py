"""Real dlib on photos that ship in packages: detection, landmarks, crops and 1:1 match."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from models.errors import InvalidImage, MultipleFaces, NoFace
from models.face.match import similarity_to_score
from models.face.types import DetectInput, MatchInput
from tests.conftest import rgb


def test_detects_six_faces_in_t1_with_68_landmarks(photo_paths, detector):
    out = detector.predict(DetectInput(image=rgb(photo_paths["t1"])))
    assert len(out.faces) == 6
    assert (out.image_width, out.image_height) == (1280, 886)
    for face in out.faces:
        x1, y1, x2, y2 = face.box
        assert 0 <= x1 < x2 <= 1280 and 0 <= y1 < y2 <= 886
        assert 0.5 < face.score <= 1.0
        assert face.landmark_scheme == "dlib68" and len(face.landmarks) == 68
        left, right = face.keypoints["eye_left"], face.keypoints["eye_right"]
        assert left[0] < right[0]
        assert y1 < left[1] < face.keypoints["nose"][1] < face.keypoints["mouth_left"][1] < y2
    areas = [f.area for f in out.faces]
    assert areas == sorted(areas, reverse=True)
    assert out.evidence.models[0].name == "face-detect-dlib"


@pytest.mark.parametrize("name", ["hanks", "astronaut", "grace"])
def test_single_portraits_have_one_face(photo_paths, detector, name):
    assert len(detector.predict(DetectInput(image=rgb(photo_paths[name]))).faces) == 1


def test_five_point_configuration_is_commercially_usable(photo_paths):
    from models.registry import create_model

    model = create_model("face-detect-dlib", landmarks=5)
    assert model.card.commercial_use
    assert not create_model("face-detect-dlib").card.commercial_use  # 68-point weights: iBUG 300-W terms
    face = model.predict(DetectInput(image=rgb(photo_paths["grace"]))).faces[0]
    assert face.landmark_scheme == "dlib5" and len(face.landmarks) == 5
    assert set(face.keypoints) == {"eye_left", "eye_right", "nose"}


def test_aligned_crop_is_square_and_level(photo_paths, matcher):
    image = rgb(photo_paths["grace"])
    face = matcher.faces.detect(image)[0]
    chip = matcher.faces.aligned_crop(image, face, size_px=150)
    assert chip.shape == (150, 150, 3)
    again = matcher.faces.detect(chip)
    assert len(again) == 1
    (_, ly), (_, ry) = again[0].keypoints["eye_left"], again[0].keypoints["eye_right"]
    assert abs(ly - ry) < 6  # eyes level after alignment


def _variants(image: np.ndarray) -> dict[str, np.ndarray]:
    h, w = image.shape[:2]
    rot = cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), 8, 1.0), (w, h),
                         borderMode=cv2.BORDER_REFLECT)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=35)
    return {
        "upscaled": cv2.resize(image, None, fx=1.6, fy=1.6, interpolation=cv2.INTER_CUBIC),
        "brighter": np.clip(image.astype(np.int16) + 40, 0, 255).astype(np.uint8),
        "darker": (image * 0.6).astype(np.uint8),
        "rotated": rot,
        "jpeg35": np.asarray(Image.open(buf).convert("RGB")),
        "mirrored": np.ascontiguousarray(image[:, ::-1]),
    }


def test_same_photo_variants_match(matcher, t1_crops, photo_paths):
    for source in [t1_crops[0], t1_crops[2], rgb(photo_paths["grace"])]:
        for name, variant in _variants(source).items():
            out = matcher.predict(MatchInput(id_image=source, live_image=variant))
            assert out.match, (name, out.similarity)
            assert out.score >= 60
            assert out.evidence.thresholds[0].name == "match"


def test_different_people_do_not_match(matcher, t1_crops, photo_paths):
    people = t1_crops + [rgb(photo_paths[k]) for k in ("hanks", "astronaut", "grace")]
    sims = []
    for i in range(len(people)):
        for j in range(i + 1, len(people)):
            out = matcher.predict(MatchInput(id_image=people[i], live_image=people[j]))
            assert not out.match, (i, j, out.similarity)
            assert out.score < 60
            sims.append(out.similarity)
    assert max(sims) < matcher.threshold.value


def test_match_evidence_names_model_threshold_and_timings(matcher, t1_crops):
    out = matcher.predict(MatchInput(id_image=t1_crops[1], live_image=t1_crops[1]))
    assert out.similarity == pytest.approx(1.0, abs=1e-3) and out.score == 100
    ev = out.evidence
    assert ev.models[0].weights_digest == matcher.card.digest
    assert ev.thresholds[0].value == out.threshold == 0.92
    assert out.operating_point == {"lfw_accuracy": 0.9938}
    assert {"detect", "embed"} <= set(ev.timings_ms)
    assert "same person" in ev.reasons[0]


def test_threshold_override_changes_the_decision(t1_crops):
    from models.registry import create_model

    strict = create_model("face-match-dlib", threshold=0.999)
    out = strict.predict(MatchInput(id_image=t1_crops[0], live_image=_variants(t1_crops[0])["jpeg35"]))
    assert not out.match and out.threshold == 0.999
    assert out.evidence.thresholds[0].source.startswith("configured")


def test_id_photo_with_two_faces_is_rejected(matcher, photo_paths, t1_crops):
    with pytest.raises(MultipleFaces, match="id_image"):
        matcher.predict(MatchInput(id_image=rgb(photo_paths["t1"]), live_image=t1_crops[0]))


def test_no_face_is_rejected(matcher, no_face_image, t1_crops):
    with pytest.raises(NoFace, match="live_image"):
        matcher.predict(MatchInput(id_image=t1_crops[0], live_image=no_face_image))


def test_live_image_with_several_faces_can_use_the_largest(photo_paths, t1_crops):
    from models.registry import create_model

    lenient = create_model("face-match-dlib", multiple_faces="largest")
    out = lenient.predict(MatchInput(id_image=t1_crops[0], live_image=rgb(photo_paths["t1"])))
    assert out.match  # the largest face in t1 is the person cropped first


def test_wrong_array_is_invalid_image(matcher):
    with pytest.raises(InvalidImage):
        matcher.predict(MatchInput(id_image=np.zeros((10, 10), np.uint8), live_image=np.zeros((10, 10), np.uint8)))


def test_score_mapping_is_monotonic_with_threshold_at_60():
    assert similarity_to_score(0.92, 0.92, 0.75) == 60
    assert similarity_to_score(1.0, 0.92, 0.75) == 100
    assert similarity_to_score(0.5, 0.92, 0.75) == 0
    xs = np.linspace(0, 1, 50)
    ys = [similarity_to_score(x, 0.92, 0.75) for x in xs]
    assert ys == sorted(ys)
