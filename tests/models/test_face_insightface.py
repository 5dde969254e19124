"""The insightface backend on tiny seeded ONNX packs: real loading code, roles by configuration,
clear errors for missing paths, and no network access ever."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from models.errors import ModelLoadError, MultipleFaces
from models.face.types import DetectInput, MatchInput
from models.registry import create_model
from tests.tiny_insightface import make_detector, make_pack, make_recognizer, square_image


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    return make_pack(tmp_path_factory.mktemp("packs") / "tiny_pack")


def test_detector_finds_the_one_face_with_five_keypoints(pack, no_network):
    model = create_model("face-detect-insightface", pack, det_size_px=320)
    out = model.predict(DetectInput(image=square_image(128, 96)))
    assert len(out.faces) == 1
    face = out.faces[0]
    cx = (face.box[0] + face.box[2]) / 2
    assert 128 <= cx <= 192 and face.score > 0.9
    assert face.landmark_scheme == "insightface5"
    assert list(face.keypoints) == ["eye_left", "eye_right", "nose", "mouth_left", "mouth_right"]
    assert model.card.backend == "insightface" and not model.card.commercial_use
    assert "non-commercial" in model.card.licence
    assert [w.path for w in model.card.weights] == ["det_10g.onnx"]


def test_landmark_model_is_used_when_configured(pack, no_network):
    model = create_model("face-detect-insightface", pack, det_size_px=320, landmarks_file="2d106det.onnx")
    face = model.predict(DetectInput(image=square_image(64, 64))).faces[0]
    assert face.landmark_scheme == "insightface106" and len(face.landmarks) == 106


def test_roles_come_from_configuration_not_tensor_shapes(tmp_path, no_network):
    make_detector(tmp_path / "my_detector.onnx")
    make_recognizer(tmp_path / "my_recogniser.onnx", seed=3)
    model = create_model("face-match-insightface", tmp_path, detector="my_detector.onnx",
                         recognizer="my_recogniser.onnx", det_size_px=320)
    assert sorted(w.path for w in model.card.weights) == ["my_detector.onnx", "my_recogniser.onnx"]
    # swapping the roles is not "corrected" by looking at shapes: it fails loudly
    with pytest.raises(ModelLoadError):
        create_model("face-match-insightface", tmp_path, detector="my_recogniser.onnx",
                     recognizer="my_detector.onnx", det_size_px=320)


def test_match_same_and_different(pack, no_network):
    model = create_model("face-match-insightface", pack, det_size_px=320)
    a = square_image(128, 128, seed=1)
    same = model.predict(MatchInput(id_image=a, live_image=a.copy()))
    assert same.similarity == pytest.approx(1.0, abs=1e-4) and same.match
    other = model.predict(MatchInput(id_image=a, live_image=square_image(60, 200, seed=7)))
    assert other.similarity < same.similarity
    assert other.evidence.models[0].backend == "insightface"


def test_two_squares_in_id_photo_are_rejected(pack):
    model = create_model("face-match-insightface", pack, det_size_px=320)
    two = np.maximum(square_image(32, 32, seed=1), square_image(224, 224, seed=2))
    with pytest.raises(MultipleFaces):
        model.predict(MatchInput(id_image=two, live_image=square_image(128, 128)))


def test_missing_pack_directory_names_the_path(tmp_path, no_network):
    missing = tmp_path / "models" / "buffalo_l"
    with pytest.raises(ModelLoadError, match=str(missing)) as err:
        create_model("face-match-insightface", missing)
    assert "nothing is downloaded" in str(err.value)


def test_default_location_comes_from_the_environment(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("VERISERVE_INSIGHTFACE_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ModelLoadError, match="nowhere"):
        create_model("face-detect-insightface")


def test_missing_file_in_pack_names_the_file(tmp_path, no_network):
    make_detector(tmp_path / "det_10g.onnx")
    with pytest.raises(ModelLoadError, match="w600k_r50.onnx"):
        create_model("face-match-insightface", tmp_path)


def test_corrupt_onnx_is_a_load_error(tmp_path, no_network):
    (tmp_path / "det_10g.onnx").write_bytes(b"not an onnx model")
    with pytest.raises(ModelLoadError, match="det_10g.onnx"):
        create_model("face-detect-insightface", tmp_path)


def test_pinned_card_detects_a_swapped_file(tmp_path, no_network):
    make_pack(tmp_path)
    model = create_model("face-match-insightface", tmp_path, det_size_px=320)
    model.card.write(tmp_path)
    make_recognizer(tmp_path / "w600k_r50.onnx", seed=99)  # someone replaces the recogniser
    with pytest.raises(ModelLoadError, match="w600k_r50.onnx"):
        create_model("face-match-insightface", tmp_path, det_size_px=320)
