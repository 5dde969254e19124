"""Face-match evaluation: pair loaders, calibration honesty, MLflow logging, calibrated cards."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from evaluation import face_match as fm
from evaluation.pairs import augment, demo_pairs, load_lfw_pairs
from models.errors import InvalidInput
from models.registry import create_model
from tests.conftest import rgb


@pytest.fixture(scope="module")
def small_demo():
    return demo_pairs(variants=4, seed=3)


@pytest.fixture(scope="module")
def result(matcher, small_demo):
    return fm.evaluate(matcher, small_demo)


def test_demo_pairs_cover_nine_people(small_demo):
    people = set(small_demo.identity.values())
    assert len(people) == 9 and len(small_demo.images) == 36
    genuine = sum(1 for *_, same in small_demo.pairs if same)
    assert genuine == 9 * 6 and len(small_demo.pairs) - genuine == 36 * 16
    assert small_demo.digest() == demo_pairs(variants=4, seed=3).digest()  # deterministic
    assert small_demo.digest() != demo_pairs(variants=4, seed=4).digest()


def test_augment_changes_pixels_but_keeps_an_image(photo_paths):
    photo = rgb(photo_paths["grace"])
    out = augment(photo, np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.ndim == 3
    assert out.shape != photo.shape or not np.array_equal(out, photo)


def test_evaluation_separates_people_and_is_honest_about_support(result):
    s = result.summary
    assert s["genuine_pairs"] > 30 and s["impostor_pairs"] > 300
    assert s["fmr_at_deployed"] == 0 and s["fnmr_at_deployed"] < 0.05
    assert s["genuine_mean"] > 0.95 > 0.9 > s["impostor_mean"]
    assert result.calibration["0.01"]["supported"]
    assert not result.calibration["0.001"]["supported"] and "3000 needed" in result.calibration["0.001"]["note"]
    assert not result.calibration["0.0001"]["supported"]
    t = result.calibration["0.01"]["threshold"]
    assert np.mean(result.impostor >= t) <= 0.01


def test_calibrated_card_carries_thresholds_with_operating_points(matcher, result):
    card = fm.calibrated_card(matcher.card, result, 1e-2, run_id="abc")
    match = card.thresholds["match"]
    assert match.value == result.calibration["0.01"]["threshold"]
    assert match.operating_point["fmr"] == 1e-2 and "fnmr" in match.operating_point
    assert "abc" in match.source and result.dataset_digest[:12] in match.source
    assert "match@fmr=0.01" in card.thresholds and "match@fmr=0.001" not in card.thresholds
    assert card.metrics["eval.eer"] == result.summary["eer"]
    assert card.weights == matcher.card.weights  # same weights, new decision rule
    with pytest.raises(InvalidInput, match="3000 needed"):
        fm.calibrated_card(matcher.card, result, 1e-3)


def test_lfw_layout_loader(tmp_path, photo_paths):
    rng = np.random.default_rng(0)
    for name, key in (("Grace_Hopper", "grace"), ("Tom_Hanks", "hanks"), ("Eileen_Collins", "astronaut")):
        (tmp_path / name).mkdir()
        photo = rgb(photo_paths[key])
        for i in (1, 2):
            img = photo if i == 1 else augment(photo, rng)
            Image.fromarray(img).save(tmp_path / name / f"{name}_{i:04d}.jpg")
    (tmp_path / "pairs.txt").write_text(
        "1\t6\nGrace_Hopper\t1\t2\nTom_Hanks\t1\t2\nEileen_Collins\t1\t2\n"
        "Grace_Hopper\t1\tTom_Hanks\t2\nTom_Hanks\t1\tEileen_Collins\t1\nGrace_Hopper\t2\tEileen_Collins\t2\n")
    pairs = load_lfw_pairs(tmp_path)
    assert len(pairs.images) == 6 and [p[2] for p in pairs.pairs] == [True] * 3 + [False] * 3
    out = fm.evaluate(create_model("face-match-dlib"), pairs)
    assert out.summary["genuine_pairs"] + out.summary["impostor_pairs"] + len(out.failed_images) >= 5
    (tmp_path / "pairs.txt").write_text("Grace_Hopper\t1\t9\n")
    with pytest.raises(InvalidInput, match="Grace_Hopper_0009.jpg"):
        load_lfw_pairs(tmp_path)
    (tmp_path / "pairs.txt").write_text("just-one-token\n")
    with pytest.raises(InvalidInput, match="pairs.txt:2|expected"):
        load_lfw_pairs(tmp_path)
    with pytest.raises(InvalidInput, match="pairs file not found"):
        load_lfw_pairs(tmp_path / "nowhere")


def test_results_logged_to_mlflow_and_registered(tmp_path, monkeypatch, matcher, result):
    import mlflow

    from serving import store
    from training.bootstrap import register

    monkeypatch.setenv("VERISERVE_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    client = store.configure()
    run_id = fm.log_to_mlflow(result)
    run = client.get_run(run_id)
    assert run.data.params["dataset_digest"] == result.dataset_digest
    assert run.data.metrics["eer"] == result.summary["eer"]
    assert "threshold_at_fmr_0.01" in run.data.metrics
    arts = {a.path for a in client.list_artifacts(run_id, "plots")}
    assert arts == {"plots/roc.png", "plots/det.png", "plots/scores.png"}
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/report.json")["calibration"]["0.01"]["supported"]
    card = fm.calibrated_card(matcher.card, result, 1e-2, run_id)
    reg = register(client, "face-match", card.name, card.config, matcher.default_path(), card=card,
                   reason="calibrated", set_champion=True)
    model, info = store.load(client, "face-match")
    assert info.version == reg.version
    assert model.threshold.value == card.thresholds["match"].value
    assert model.threshold.operating_point["fmr"] == 1e-2
