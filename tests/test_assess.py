"""Risk evidence of real models on small real data: the shape the report and the gate read, and numbers
that agree with each other."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import assess
from evaluation.policy import breaches, load_policy
from models.registry import create_model
from serving.store import ModelVersionInfo


def info(name: str) -> ModelVersionInfo:
    return ModelVersionInfo(name, "7", (), {}, None, "")


def check_shape(ev: dict, plots: dict) -> None:
    for key in ("registered", "version", "card", "dataset", "operating_point", "metrics", "fairness",
                "explanations", "monitoring_reference", "limitations"):
        assert key in ev
    for entry in ev["fairness"].values():
        for group in entry["table"].values():
            for cell in group.values():
                assert {"value", "low", "high", "n"} <= set(cell)
                if np.isfinite(cell["value"]) and np.isfinite(cell["low"]):
                    assert cell["low"] - 1e-9 <= cell["value"] <= cell["high"] + 1e-9
    assert all(p.is_file() for p in plots.values())
    assert isinstance(breaches(ev, load_policy()), list)


def test_face_match_evidence_counts_every_genuine_pair_in_one_group(tmp_path):
    ev, plots = assess.face_match(create_model("face-match-dlib"), info("face-match"), tmp_path, variants=3,
                                  n_boot=50)
    check_shape(ev, plots)
    table = ev["fairness"]["presented_sex"]["table"]
    assert set(table) == {"female", "male", "cross-group"}
    assert sum(g["fnmr"]["n"] for g in table.values()) == ev["metrics"]["genuine_pairs"]
    assert sum(g["fmr"]["n"] for g in table.values()) == ev["metrics"]["impostor_pairs"]
    assert ev["monitoring_reference"]["population"].startswith("genuine")
    assert {"roc", "det", "hist", "fairness_presented_sex_fnmr"} <= set(plots)


def test_face_quality_evidence_explains_the_score_with_its_measures(tmp_path):
    ev, plots = assess.face_quality(create_model("face-quality-dlib", landmarks=68), info("face-quality"), tmp_path,
                                    variants=2, n_boot=50)
    check_shape(ev, plots)
    assert ev["metrics"]["captures"] == 18
    assert ev["metrics"]["pass_rate"] + ev["metrics"]["failure_rate"] == pytest.approx(1.0)
    assert {"yaw_deg", "sharpness", "brightness"} <= set(ev["explanations"]["importance"])
    assert ev["card"]["commercial_use"] is False  # the 68-point predictor: the gate's licence line catches it
    assert any(b.startswith("licence:") for b in breaches(ev, load_policy()))


def test_ocr_evidence_by_group_and_document_type(tmp_path):
    ev, plots = assess.ocr(create_model("ocr-rapidocr"), info("ocr"), tmp_path, per_type=1,
                           doc_types=("id_card_front", "bank_card"), n_boot=50)
    check_shape(ev, plots)
    assert set(ev["fairness"]["doc_type"]["table"]) == {"id_card_front", "bank_card"}
    assert 0 <= ev["metrics"]["field_accuracy"] <= 1 and len(ev["monitoring_reference"]["scores"]) == 2


def test_asr_evidence_by_voice_and_condition(tmp_path, keyword_asr):
    ev, plots = assess.asr_zh(keyword_asr, info("asr-zh"), tmp_path, repeats=1, n_boot=50)
    check_shape(ev, plots)
    assert set(ev["fairness"]["voice"]["table"]) == {"seen", "unseen"}
    assert {"voice", "sample_rate", "speaking_rate", "noise"} == set(ev["fairness"])
    assert ev["metrics"]["accuracy"] > 0.8  # trained on these synthetic voices
