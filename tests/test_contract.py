"""The model contract: abstract base, registry, cards and digests (DESIGN.md §3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from models.base import Model, ModelCard, Threshold, describe_weights, verify_weights
from models.errors import ModelLoadError, ModelNotFound
from models.face.dlib_backend import KNOWN_WEIGHTS, RESNET, SHAPE5, wheel_weights_dir
from models.registry import create_model, list_models, register_model


def test_subclass_missing_predict_cannot_be_instantiated():
    class NoPredict(Model):
        name = "no-predict"

        def default_card(self, path):
            raise NotImplementedError

        def load(self, path):
            pass

    with pytest.raises(TypeError, match="predict"):
        NoPredict()


def test_registry_lists_face_models_and_rejects_unknown_names():
    names = list_models()
    assert {"face-detect-dlib", "face-match-dlib", "face-detect-insightface", "face-match-insightface"} <= set(names)
    with pytest.raises(ModelNotFound, match="face-match-dlib"):
        create_model("face-match-dlb")


def test_registry_rejects_duplicate_names():
    from models.face.match import DlibFaceMatch

    class Impostor(DlibFaceMatch):
        name = "face-match-dlib"

    with pytest.raises(ValueError, match="already registered"):
        register_model(Impostor)
    register_model(DlibFaceMatch)  # re-registering the same class is harmless


def test_card_is_frozen_and_strict():
    card = ModelCard(name="x", family="face", task="t", version="1", backend="b", licence="l",
                     commercial_use=True, data_provenance="p", thresholds={"m": Threshold(value=0.5)})
    with pytest.raises(ValidationError):
        card.name = "y"
    with pytest.raises(ValidationError):
        ModelCard(**card.model_dump(), unexpected="field")


def test_known_dlib_digests_match_the_installed_wheel():
    files = {RESNET: "", SHAPE5: ""}
    for w in describe_weights(wheel_weights_dir(), files):
        known = KNOWN_WEIGHTS[w.path]
        assert (w.sha256, w.sm3, w.size_bytes) == (known.sha256, known.sm3, known.size_bytes)


@pytest.fixture()
def copied_weights(tmp_path) -> Path:
    for name in (RESNET, SHAPE5):
        shutil.copy(wheel_weights_dir() / name, tmp_path / name)
    return tmp_path


def test_changed_byte_in_weights_fails_loading(copied_weights):
    model = create_model("face-match-dlib", copied_weights)  # intact copy loads
    assert model.card.digest
    target = copied_weights / SHAPE5
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="does not match its card"):
        create_model("face-match-dlib", copied_weights)


def test_missing_weight_file_names_the_path(copied_weights):
    (copied_weights / RESNET).unlink()
    with pytest.raises(ModelLoadError, match=str(copied_weights / RESNET)):
        create_model("face-match-dlib", copied_weights)


def test_card_json_in_directory_is_verified(copied_weights):
    model = create_model("face-match-dlib", copied_weights)
    model.card.write(copied_weights)
    assert create_model("face-match-dlib", copied_weights).card == model.card
    with open(copied_weights / RESNET, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelLoadError):
        verify_weights(model.card, copied_weights)


def test_card_for_another_model_is_refused(copied_weights):
    create_model("face-match-dlib", copied_weights).card.write(copied_weights)
    with pytest.raises(ModelLoadError, match="not 'face-detect-dlib'"):
        create_model("face-detect-dlib", copied_weights, landmarks=5)


def test_results_reject_unknown_attributes(matcher, t1_crops):
    from models.face.types import MatchInput

    out = matcher.predict(MatchInput(id_image=t1_crops[0], live_image=t1_crops[0]))
    with pytest.raises(AttributeError):
        _ = out.simlarity  # a misspelled field is an error, not None
