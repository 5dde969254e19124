"""Model risk: the promotion gate against a policy (a deliberately biased model is refused), the alias
history answering "which version was live at time T", its SM3 chain, the AI-risk report (every section,
numbers equal to the JSON), drift figures and the reviewer record of a decision."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from html.parser import HTMLParser

import numpy as np
import pytest

from evaluation import drift, gate
from evaluation.fairness import rate_table
from evaluation.policy import load_policy
from evaluation.risk import TAG_EVIDENCE, TAG_REPORT, add_fairness, load_evidence, log_evidence, new_evidence, resolve
from explain import report as rep
from models.base import ModelCard, WeightFile
from models.errors import InvalidInput
from serving import store

POLICY = """
require_report: true
require_commercial_use: true
models:
  toy-liveness:
    metrics: {bpcer: {max: 0.2}, apcer_max: {max: 0.1}}
    fairness: {bpcer: {max_difference: 0.1}}
"""


def card(commercial: bool = True) -> ModelCard:
    return ModelCard(name="toy-threshold", family="liveness", task="liveness-passive", version="seed0",
                     backend="numpy", licence="Veriserve test licence", commercial_use=commercial,
                     data_provenance="synthetic scores", intended_use="tests of the promotion gate",
                     limitations=["toy"], weights=[WeightFile(path="w.npy", sha256="0" * 64, sm3="1" * 64,
                                                              size_bytes=8)])


@pytest.fixture()
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("VERISERVE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return store.configure()


def register_version(client, name: str = "toy-liveness"):
    import mlflow
    from mlflow.exceptions import MlflowException

    with mlflow.start_run() as run:
        mlflow.log_text("{}", "weights/card.json")
    with contextlib.suppress(MlflowException):
        client.create_registered_model(name)
    mv = client.create_model_version(name, f"{run.info.artifact_uri}/weights", run_id=run.info.run_id)
    return resolve(client, f"{name}/{mv.version}")


def toy_evidence(info, *, bias: float, commercial: bool = True, seed: int = 0) -> dict:
    """A threshold model on synthetic scores; ``bias`` lowers group b's bona fide scores."""
    rng = np.random.default_rng(seed)
    groups = np.array(["a"] * 400 + ["b"] * 400)
    bona = rng.normal(0.8, 0.08, 800) - np.where(groups == "b", bias, 0.0)
    attack = rng.normal(0.2, 0.08, 400)
    thr = 0.5
    ev = new_evidence(info.registered, info.version, card(commercial), dataset="synthetic", provenance="numpy",
                      group_source="synthetic labels a/b")
    ev["operating_point"] = {"threshold": thr}
    ev["metrics"] = {"bpcer": round(float((bona < thr).mean()), 4),
                     "apcer_max": round(float((attack >= thr).mean()), 4)}
    add_fairness(ev, "group", rate_table(bona < thr, groups, "bpcer", n_boot=100), ("bpcer",))
    ev["explanations"] = {"method": "threshold on one score", "importance": {"score": 1.0}}
    ev["monitoring_reference"] = {"score": "live", "scores": bona.round(4).tolist(),
                                  "pass_rate": 1 - ev["metrics"]["bpcer"]}
    return ev


def with_report(client, info, ev, policy):
    run_id = log_evidence(client, ev, {})
    info = resolve(client, f"{info.registered}/{info.version}")
    evidence, run, local = load_evidence(client, info)
    html, data = rep.build(evidence, local / "plots", policy, evidence_run=run)
    rep.log_report(client, info, html, data, run)
    return resolve(client, f"{info.registered}/{info.version}"), html, data, run_id


def test_default_policy_covers_every_assessed_model():
    from evaluation.assess import ASSESSED

    policy = load_policy()
    assert set(ASSESSED) <= set(policy.models)
    with pytest.raises(InvalidInput, match="not found"):
        load_policy("/nonexistent/policy.yaml")


def test_gate_refuses_the_biased_model_and_accepts_the_fair_one(client, tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    policy = load_policy(tmp_path / "policy.yaml")
    fair_v, biased_v = register_version(client), register_version(client)

    refused = gate.check(client, fair_v, policy)  # nothing measured yet
    assert refused and "no risk evidence" in refused[0]

    fair_v, _, fair_report, _ = with_report(client, fair_v, toy_evidence(fair_v, bias=0.0), policy)
    biased_v, _, biased_report, _ = with_report(client, biased_v, toy_evidence(biased_v, bias=0.3), policy)
    assert gate.check(client, fair_v, policy) == [] and fair_report["breaches"] == []
    reasons = gate.check(client, biased_v, policy)
    assert any(r.startswith("fairness by group: bpcer") and "difference" in r for r in reasons)
    assert any(r.startswith("metric bpcer") for r in reasons)  # group b drags the overall BPCER up too
    assert {c["clause"]: c["status"] for c in biased_report["clauses"]}["7.3(d)"] == "fail"

    with pytest.raises(gate.PromotionRefused) as exc:
        gate.promote(client, "toy-liveness", biased_v.version, reason="try", policy=policy)
    assert exc.value.reasons == reasons
    event = gate.promote(client, "toy-liveness", fair_v.version, reason="passes the gate", user="alice", policy=policy)
    assert event["forced"] is False and store.get_by_alias(client, "toy-liveness").version == fair_v.version
    with pytest.raises(InvalidInput, match="reason"):
        gate.promote(client, "toy-liveness", biased_v.version, reason=" ", force=True, policy=policy)
    forced = gate.promote(client, "toy-liveness", biased_v.version, reason="regulator-approved exception",
                          force=True, user="bob", policy=policy)
    assert forced["forced"] is True and forced["overridden"] == reasons
    assert store.alias_history(client, "toy-liveness")[-1]["overridden"] == reasons


def test_min_n_leaves_a_small_group_out_of_the_gap_and_the_report_says_so(tmp_path):
    from evaluation.policy import fairness_breaches, fairness_exclusions

    # BPCER: a 5/100, b 4/100, c 3/4 -- only the group of four breaches the 0.1 gap
    errors = np.array([1] * 5 + [0] * 95 + [1] * 4 + [0] * 96 + [1] * 3 + [0], bool)
    groups = np.array(["a"] * 100 + ["b"] * 100 + ["c"] * 4)
    ev = {"registered": "toy-liveness", "fairness": {}}
    add_fairness(ev, "group", rate_table(errors, groups, "bpcer", n_boot=50), ("bpcer",))
    (tmp_path / "plain.yaml").write_text(POLICY)
    plain = load_policy(tmp_path / "plain.yaml")
    assert [b for b in fairness_breaches(ev, plain) if "c 0.7500" in b] and fairness_exclusions(ev, plain) == []
    (tmp_path / "sized.yaml").write_text(POLICY.replace("{max_difference: 0.1}", "{max_difference: 0.1, min_n: 10}"))
    sized = load_policy(tmp_path / "sized.yaml")
    assert fairness_breaches(ev, sized) == []
    assert fairness_exclusions(ev, sized) == [
        "fairness by group: bpcer not assessed for c (n=4) (fewer than min_n 10)"]
    errors[100:116] = True  # b now 16/100 against a 5/100: a gap between groups large enough to count
    add_fairness(ev, "group", rate_table(errors, groups, "bpcer", n_boot=50), ("bpcer",))
    assert [b for b in fairness_breaches(ev, sized) if "b 0.1600 vs a 0.0500" in b]
    (tmp_path / "typo.yaml").write_text(POLICY.replace("max_difference: 0.1", "max_diference: 0.1"))
    with pytest.raises(InvalidInput, match="max_diference"):
        load_policy(tmp_path / "typo.yaml")
    (tmp_path / "bare.yaml").write_text(POLICY.replace("{max_difference: 0.1}", "0.1"))
    with pytest.raises(InvalidInput, match="expected a mapping"):
        load_policy(tmp_path / "bare.yaml")


def test_gate_needs_a_report_for_the_latest_evidence_and_a_commercial_licence(client, tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    policy = load_policy(tmp_path / "policy.yaml")
    info = register_version(client)
    log_evidence(client, toy_evidence(info, bias=0.0), {})
    info = resolve(client, f"toy-liveness/{info.version}")
    assert any("no AI-risk report" in r for r in gate.check(client, info, policy))
    info, *_ = with_report(client, info, toy_evidence(info, bias=0.0), policy)
    assert gate.check(client, info, policy) == []
    log_evidence(client, toy_evidence(info, bias=0.0, seed=1), {})  # re-evaluated: the report is stale
    info = resolve(client, f"toy-liveness/{info.version}")
    assert info.tags[TAG_REPORT] != info.tags[TAG_EVIDENCE]
    assert any("predates the latest evidence" in r for r in gate.check(client, info, policy))
    nc = register_version(client)
    nc, _, data, _ = with_report(client, nc, toy_evidence(nc, bias=0.0, commercial=False), policy)
    assert any(r.startswith("licence:") for r in gate.check(client, nc, policy))
    assert {c["clause"]: c["status"] for c in data["clauses"]}["7.3(e)"] == "fail"


def test_history_answers_which_version_was_live_at_a_time(client):
    for _ in range(3):
        register_version(client)
    times = []
    for version, who in (("1", "alice"), ("2", "bob"), ("3", "carol")):
        times.append(dt.datetime.now(dt.UTC))
        time.sleep(0.02)
        store.set_alias(client, "toy-liveness", version, reason=f"release {version}", user=who)
        time.sleep(0.02)
    after = dt.datetime.now(dt.UTC)
    assert store.alias_at(client, "toy-liveness", times[0]) is None  # before the first promotion
    assert store.alias_at(client, "toy-liveness", times[1])["version"] == "1"
    assert store.alias_at(client, "toy-liveness", times[2])["version"] == "2"
    live = store.alias_at(client, "toy-liveness", after.isoformat())
    assert live["version"] == "3" and live["user"] == "carol" and live["previous"] == "2"
    assert store.alias_at(client, "toy-liveness", times[2], alias="challenger") is None
    assert store.verify_history(client, "toy-liveness") == []


def test_history_chain_finds_an_edited_or_deleted_event(client):
    for _ in range(3):
        register_version(client)
        store.set_alias(client, "toy-liveness", str(len(store.alias_history(client, "toy-liveness")) + 1),
                        reason="r")
    tags = client.get_registered_model("toy-liveness").tags
    key = sorted(k for k in tags if k.startswith("veriserve.alias_event."))[1]
    edited = json.loads(tags[key])
    edited["user"] = "mallory"
    client.set_registered_model_tag("toy-liveness", key, json.dumps(edited))
    assert any("does not match its SM3 digest" in p for p in store.verify_history(client, "toy-liveness"))
    client.set_registered_model_tag("toy-liveness", key, tags[key])  # restored
    assert store.verify_history(client, "toy-liveness") == []
    client.delete_registered_model_tag("toy-liveness", key)
    problems = store.verify_history(client, "toy-liveness")
    assert any("missing" in p for p in problems) and any("does not follow" in p for p in problems)


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids, self.cells, self._key = set(), {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for name in ("data-metric", "data-cell", "data-clause", "data-op", "data-importance"):
            if name in a:
                self._key = (name, a[name])

    def handle_data(self, data):
        if self._key:
            self.cells[self._key] = data
            self._key = None


def test_report_renders_every_section_with_the_numbers_of_its_json(client, tmp_path):
    policy = load_policy()
    info = register_version(client)
    ev = toy_evidence(info, bias=0.2)
    ev["fairness"]["group"]["table"]["a"]["bpcer"]["value"] = float("nan")  # renders as n/a, no crash
    info, html, data, _ = with_report(client, info, ev, policy)
    parser = _Cells()
    parser.feed(html)
    assert html.startswith("<!DOCTYPE html>") and set(rep.SECTIONS) <= parser.ids
    ev = data["evidence"]
    for k, v in ev["metrics"].items():
        assert parser.cells[("data-metric", k)] == rep.fmt(v)
    for group, metrics in ev["fairness"]["group"]["table"].items():
        assert parser.cells[("data-cell", f"group|{group}|bpcer")] == rep.fmt(metrics["bpcer"]["value"])
    for c in data["clauses"]:
        assert parser.cells[("data-clause", c["clause"])] == c["status"]
    assert [c["clause"] for c in data["clauses"]] == ["7.3(a)", "7.3(b)", "7.3(c)", "7.3(d)", "7.3(e)"]
    assert "http" not in html.split("</style>")[1]  # nothing to fetch: opens offline
    path, js = rep.write(tmp_path / "r" / "toy.html", html, data)
    assert json.loads(js.read_text())["evidence"]["metrics"] == ev["metrics"]
    import mlflow

    stored = mlflow.artifacts.load_dict(f"runs:/{info.tags[TAG_REPORT]}/risk/report.json")
    assert stored["clauses"] == data["clauses"]


def test_psi_and_drift_flags():
    # hand-computed PSI: two bins with 50/50 in the reference and 80/20 in the window
    ref = [0.0] * 50 + [1.0] * 50
    cur = [0.0] * 80 + [1.0] * 20
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert drift.psi(ref, cur, bins=2) == pytest.approx(expected, abs=1e-4)
    rng = np.random.default_rng(0)
    reference = {"score": "live", "scores": rng.normal(0.8, 0.1, 500).tolist(), "pass_rate": 0.95}
    same = rng.normal(0.8, 0.1, 300)
    steady = drift.compare(reference, same.tolist(), (same >= 0.6).tolist())
    assert steady["flags"] == [] and steady["psi"] < 0.1
    shifted = rng.normal(0.6, 0.1, 300)
    moved = drift.compare(reference, shifted.tolist(), (shifted >= 0.6).tolist())
    assert any("PSI" in f for f in moved["flags"]) and any("KS" in f for f in moved["flags"])
    assert any("pass rate" in f for f in moved["flags"])
    few = drift.compare(reference, [0.1] * 5, [False] * 5)
    assert few["flags"] == [] and "at least" in few["notes"][0]


def test_monitor_log_keeps_numbers_by_version_and_window(tmp_path):
    from serving.monitoring import MonitorLog

    log = MonitorLog(tmp_path / "m.db")
    log.record("face-match", "2", "similarity", 0.91, True, at=100.0)
    log.record("face-match", "2", "similarity", 0.41, False, at=200.0)
    log.record("face-match", "3", "similarity", 0.88, True, at=300.0)
    assert log.window("face-match", "2") == [(100.0, "2", 0.91, True), (200.0, "2", 0.41, False)]
    assert [r[1] for r in log.window("face-match", since=150.0)] == ["2", "3"]
    assert log.window("ocr") == []


def test_reviewer_record_of_a_real_decision(client, photo_paths):
    from explain.record import render_text, reviewer_record
    from models.face.types import MatchInput
    from models.registry import create_model
    from tests.conftest import rgb
    from training.bootstrap import register

    before = dt.datetime.now(dt.UTC)
    time.sleep(0.02)
    reg = register(client, "face-match", "face-match-dlib", {}, reason="test")
    model = create_model("face-match-dlib")
    hanks = rgb(photo_paths["hanks"])
    out = model.predict(MatchInput(id_image=hanks, live_image=hanks)).model_dump(mode="json")
    out["request_id"] = "req-1"
    record = reviewer_record(out, client=client, at=dt.datetime.now(dt.UTC))
    m = record["models"][0]
    assert m["model"] == "face-match-dlib" and m["registered"] == [f"face-match v{reg.version}"]
    assert m["champion_at_time"] == {f"face-match v{reg.version}": True}
    assert record["outcome"] == {"match": True}
    text = render_text(record)
    assert "req-1" in text and "was champion then" in text and "Thresholds applied" in text
    earlier = reviewer_record(out, client=client, at=before)
    assert earlier["models"][0]["champion_at_time"] == {f"face-match v{reg.version}": False}
    with pytest.raises(InvalidInput, match="evidence"):
        reviewer_record({"similarity": 0.9})
