"""MLflow model store round trip: bootstrap -> list -> load by alias -> predict; idempotency; history."""

from __future__ import annotations

import base64

import pandas as pd
import pytest

from models.errors import ModelNotFound
from models.face.types import MatchInput
from serving import store
from tests.conftest import jpeg_bytes
from training.bootstrap import EMBEDDED_DEFAULTS, bootstrap, register


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("vhome")
    mp = pytest.MonkeyPatch()
    mp.setenv("VERISERVE_HOME", str(home))
    mp.delenv("MLFLOW_TRACKING_URI", raising=False)
    c = store.configure()
    bootstrap(c)
    yield c
    mp.undo()


def test_store_lives_under_veriserve_home(client):
    home = store.home()
    assert (home / "mlflow.db").is_file()
    assert client.tracking_uri == f"sqlite:///{home / 'mlflow.db'}"
    assert any((home / "mlartifacts").rglob("card.json"))


BACKENDS = {"liveness-passive": "sklearn", "ocr": "rapidocr", "tts": "espeak-ng", "asr-en": "pocketsphinx",
            "asr-zh": "torch"}


def test_bootstrap_registers_each_default_as_champion(client):
    rows = [v.row() for v in store.list_versions(client)]
    assert {r["name"] for r in rows} == {d.registered for d in EMBEDDED_DEFAULTS} | {"liveness-passive", "asr-zh"}
    cnn = [r for r in rows if r["model"] == "liveness-passive-cnn"]
    assert [(r["version"], r["alias"], r["backend"]) for r in cnn] == [("2", "", "onnxruntime")]
    for r in rows:
        if r in cnn:
            continue
        assert r["alias"] == "champion" and r["version"] == "1"
        assert r["backend"] == BACKENDS.get(r["name"], "dlib")
        assert r["licence"] and len(r["digest"]) == 64
    match = next(r for r in rows if r["name"] == "face-match")
    assert next(r for r in rows if r["name"] == "liveness-action")["model"] == "liveness-action-dlib"
    assert match["commercial_use"] and match["model"] == "face-match-dlib"


def test_second_bootstrap_adds_nothing(client):
    before = {(v.registered, v.version) for v in store.list_versions(client)}
    history = store.alias_history(client, "face-match")
    results = bootstrap(client)
    assert not any(r.created for r in results)
    assert {(v.registered, v.version) for v in store.list_versions(client)} == before
    assert store.alias_history(client, "face-match") == history


def test_load_by_alias_and_predict(client, t1_crops):
    model, info = store.load(client, "face-match")
    assert info.aliases == ("champion",) and model.card.name == "face-match-dlib"
    out = model.predict(MatchInput(id_image=t1_crops[0], live_image=t1_crops[0]))
    assert out.match and out.evidence.models[0].weights_digest == model.card.digest


def test_pyfunc_flavour_predicts_from_base64(client, t1_crops):
    import mlflow

    pyfunc = mlflow.pyfunc.load_model("models:/face-match@champion")
    b = [base64.b64encode(jpeg_bytes(c)).decode() for c in t1_crops[:2]]
    out = pyfunc.predict(pd.DataFrame([{"id_image_b64": b[0], "live_image_b64": b[0]},
                                       {"id_image_b64": b[0], "live_image_b64": b[1]}]))
    assert [r["match"] for r in out] == [True, False]


def test_ocr_pyfunc_takes_the_document_type_as_a_column(client):
    import mlflow

    from evaluation.documents.render import render

    sample = render("bank_card", 2, perspective=0.02, blur=0.0, noise=0.0)
    b = base64.b64encode(jpeg_bytes(sample.image)).decode()
    pyfunc = mlflow.pyfunc.load_model("models:/ocr@champion")
    out = pyfunc.predict(pd.DataFrame([{"image_b64": b, "doc_type": "bank_card"}, {"image_b64": b, "doc_type": None}]))
    assert out[0]["doc_type"] == "bank_card" and out[0]["fields"]["card_number"]["value"] == sample.truth["card_number"]
    assert out[1]["doc_type"] == "bank_card" and out[1]["classified"] is True


def test_promote_records_who_when_why(client):
    result = register(client, "face-match", "face-match-dlib", {"threshold": 0.95}, reason="test",
                      set_champion=False)
    assert result.created and result.version == "2"
    event = store.set_alias(client, "face-match", "2", reason="stricter threshold", user="reviewer-1")
    assert event["previous"] == "1" and event["user"] == "reviewer-1"
    assert store.get_by_alias(client, "face-match").version == "2"
    history = store.alias_history(client, "face-match")
    assert [e["version"] for e in history] == ["1", "2"]
    assert history[-1]["reason"] == "stricter threshold"
    store.set_alias(client, "face-match", "1", reason="roll back", user="reviewer-1")


def test_unknown_alias_or_model_raises(client):
    with pytest.raises(ModelNotFound, match="bootstrap"):
        store.get_by_alias(client, "face-match", "challenger")
    with pytest.raises(ModelNotFound):
        store.list_versions(client, "no-such-model")


def test_configure_follows_veriserve_home_within_one_process(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("VERISERVE_HOME", str(tmp_path / "a"))
    a = store.configure()
    monkeypatch.setenv("VERISERVE_HOME", str(tmp_path / "b"))
    b = store.configure()
    assert a.tracking_uri != b.tracking_uri and str(tmp_path / "b") in b.tracking_uri
    import os

    assert "MLFLOW_TRACKING_URI" not in os.environ
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'user.db'}")
    assert store.configure().tracking_uri.endswith("user.db")  # the user's own setting still wins
