"""The ``veriserve`` console script, run as a user would run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import jpeg_bytes

VERISERVE = shutil.which("veriserve", path=str(Path(sys.executable).parent)) or "veriserve"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([VERISERVE, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def crops_on_disk(tmp_path_factory, t1_crops) -> list[Path]:
    d = tmp_path_factory.mktemp("crops")
    paths = []
    for i, crop in enumerate(t1_crops[:2]):
        p = d / f"person{i}.jpg"
        p.write_bytes(jpeg_bytes(crop))
        paths.append(p)
    return paths


def test_help_lists_the_commands():
    out = run("--help").stdout
    for cmd in ("serve", "models", "predict"):
        assert cmd in out
    assert "face-match" in run("predict", "--help").stdout


def test_predict_face_match_readable_and_json(crops_on_disk):
    a, b = crops_on_disk
    same = run("predict", "face-match", str(a), str(a))
    assert same.returncode == 0, same.stderr
    assert "MATCH" in same.stdout and "NO MATCH" not in same.stdout and "score" in same.stdout
    diff = json.loads(run("predict", "face-match", str(a), str(b), "--json").stdout)
    assert diff["match"] is False and diff["score"] < 60
    assert diff["evidence"]["models"][0]["name"] == "face-match-dlib"


def test_predict_face_detect(photo_paths):
    out = run("predict", "face-detect", str(photo_paths["t1"]), "--json")
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["faces"]) == 6
    assert "6 face(s)" in run("predict", "face-detect", str(photo_paths["t1"])).stdout


def test_predict_bad_input_is_a_clear_error(tmp_path, crops_on_disk):
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"no image here")
    out = run("predict", "face-match", str(garbage), str(crops_on_disk[0]))
    assert out.returncode == 2 and "invalid_image" in out.stderr and "Traceback" not in out.stderr
    missing = run("predict", "face-detect", str(tmp_path / "nope.jpg"), "--json")
    assert missing.returncode == 2 and json.loads(missing.stdout)["error"]["code"] == "invalid_image"
    unknown = run("predict", "face-match", str(crops_on_disk[0]), str(crops_on_disk[0]), "--model", "nope")
    assert unknown.returncode == 2 and "unknown_model" in unknown.stderr


def test_models_bootstrap_list_promote_history(tmp_path):
    env = {"VERISERVE_HOME": str(tmp_path / "home"), "MLFLOW_TRACKING_URI": ""}
    first = run("models", "bootstrap", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert all(r["created"] for r in json.loads(first.stdout))  # liveness: registered from the shared cache
    again = json.loads(run("models", "bootstrap", "--json", env=env).stdout)
    assert not any(r["created"] for r in again)
    rows = json.loads(run("models", "list", "--json", env=env).stdout)
    assert {(r["name"], r["version"], r["alias"], r["backend"]) for r in rows} == {
        ("face-detect", "1", "champion", "dlib"), ("face-match", "1", "champion", "dlib"),
        ("face-quality", "1", "champion", "dlib"), ("liveness-passive", "1", "champion", "sklearn"),
        ("liveness-action", "1", "champion", "dlib"), ("liveness-passive", "2", "", "onnxruntime"),
        ("ocr", "1", "champion", "rapidocr"), ("tts", "1", "champion", "espeak-ng"),
        ("asr-en", "1", "champion", "pocketsphinx"), ("asr-zh", "1", "champion", "torch")}
    assert "face-match" in run("models", "list", env=env).stdout
    refused = run("models", "promote", "face-match", "1", "--reason", "re-affirm", env=env)
    assert refused.returncode == 2 and "no risk evidence" in refused.stderr and "--force" in refused.stderr
    promoted = run("models", "promote", "face-match", "1", "--reason", "re-affirm", "--user", "alice", "--force",
                   env=env)
    assert promoted.returncode == 0, promoted.stderr
    assert "FORCED" in promoted.stdout
    history = json.loads(run("models", "history", "face-match", "--json", env=env).stdout)
    last = history["events"][-1]
    assert last["user"] == "alice" and last["reason"] == "re-affirm" and last["forced"] is True
    assert history["history_problems"] == []
    at = json.loads(run("models", "history", "face-match", "--at", last["at"], "--json", env=env).stdout)
    assert at["version"] == "1" and at["event"]["user"] == "alice"
    assert run("models", "history", "face-match", "--at", "yesterday", env=env).returncode == 2
    bad = run("models", "promote", "face-match", "9", "--reason", "x", env=env)
    assert bad.returncode == 2 and "unknown_model" in bad.stderr
    assert run("models", "list", "nothing-here", env=env).returncode == 2
    assert (tmp_path / "home" / "mlflow.db").is_file()


def test_serve_without_bootstrap_says_what_to_do(tmp_path):
    out = run("serve", "--port", "8799", env={"VERISERVE_HOME": str(tmp_path / "empty"), "MLFLOW_TRACKING_URI": ""})
    assert out.returncode == 2
    assert "unknown_model" in out.stderr and "veriserve models bootstrap" in out.stderr
    assert "Traceback" not in out.stderr


def test_serve_with_a_broken_config_is_a_clear_error(tmp_path):
    bad = tmp_path / "serve.yaml"
    bad.write_text("http: {port: not-a-number}\nfamilies: {}\n")
    out = run("serve", "--config", str(bad))
    assert out.returncode == 2 and "invalid config" in out.stderr and "port" in out.stderr

    nofamily = tmp_path / "nofamily.yaml"
    nofamily.write_text("families: {}\n")
    out = run("serve", "--config", str(nofamily))
    assert out.returncode == 2 and "must be exactly" in out.stderr

    import yaml

    from serving.config import DEFAULT_CONFIG

    greedy = yaml.safe_load(DEFAULT_CONFIG.read_text())
    greedy["ray"]["num_cpus"] = 2
    greedy["families"]["face"]["replicas"] = 4
    too_big = tmp_path / "greedy.yaml"
    too_big.write_text(yaml.safe_dump(greedy))
    out = run("serve", "--config", str(too_big))
    assert out.returncode == 2 and "asks for 3.5 CPUs" in out.stderr


def test_predict_face_quality(photo_paths, tmp_path):
    ok = run("predict", "face-quality", str(photo_paths["grace"]))
    assert ok.returncode == 0 and "PASSED" in ok.stdout and "sharpness" in ok.stdout
    group = json.loads(run("predict", "face-quality", str(photo_paths["t1"]), "--json").stdout)
    assert group["face_count"] == 6 and not group["passed"]
    bad = run("predict", "face-quality", str(photo_paths["grace"]), "--guide-box", "a,b")
    assert bad.returncode == 2 and "guide_box" in bad.stderr


def test_predict_select_frames_video_and_images(tmp_path):
    from evaluation.frame_stability import demo_clip
    from tests.models.test_frames import write_video

    clip = demo_clip(n_frames=6, sharp_index=4)
    video = tmp_path / "clip.avi"
    write_video(clip, video, fourcc="MJPG", fps=5.0)
    best = tmp_path / "best.jpg"
    out = json.loads(run("predict", "select-frames", str(video), "--k", "2", "--save-best", str(best), "--json").stdout)
    assert out["frames"][0]["index"] == 4 and best.stat().st_size > 1000
    frames = []
    for i, _, f in clip[3:6]:
        p = tmp_path / f"f{i}.jpg"
        p.write_bytes(jpeg_bytes(f))
        frames.append(str(p))
    listed = run("predict", "select-frames", *frames)
    assert listed.returncode == 0 and "frame 1 at" in listed.stdout
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"garbage" * 100)
    bad = run("predict", "select-frames", str(broken))
    assert bad.returncode == 2 and "invalid_video" in bad.stderr


@pytest.mark.slow
def test_evaluate_face_match_and_frame_stability(tmp_path):
    env = {"VERISERVE_HOME": str(tmp_path / "home"), "MLFLOW_TRACKING_URI": ""}
    assert run("models", "bootstrap", env=env).returncode == 0
    out = run("evaluate", "face-match", "--variants", "4", "--target-fmr", "0.01", "--register", "--json", env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["registered_version"] == "2" and report["calibration"]["0.01"]["supported"]
    assert not report["calibration"]["0.0001"]["supported"]
    unsupported = run("evaluate", "face-match", "--variants", "4", "--target-fmr", "0.0001", "--register", env=env)
    assert unsupported.returncode == 2 and "needed" in unsupported.stderr
    stab = json.loads(run("evaluate", "frame-stability", "--trials", "1", "--json", env=env).stdout)
    assert stab["reference_index"] == 9 and stab["same_frame_rate_overall"] >= 0.75


@pytest.mark.slow
def test_train_and_evaluate_liveness(tmp_path):
    env = {"VERISERVE_HOME": str(tmp_path / "home"), "MLFLOW_TRACKING_URI": ""}
    out = run("train", "liveness", "--synthetic", str(tmp_path / "synth"), "--per-face", "5", "--json", env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["registered_version"] == "1" and report["test"]["acer"] < 0.5
    assert (tmp_path / "synth" / "spoof" / "replay").is_dir()
    ev = run("evaluate", "liveness", str(tmp_path / "synth"), "--no-store", "--model", "liveness-passive-texture",
             "--json", env={**env, "VERISERVE_HOME": str(tmp_path / "home")})
    assert ev.returncode == 0, ev.stderr
    assert set(json.loads(ev.stdout)["report"]["apcer"]) == {"print", "replay", "cutout"}
    bad = run("train", "liveness", env=env)
    assert bad.returncode == 2 and "DATASET" in bad.stderr
    missing = run("evaluate", "liveness", str(tmp_path / "nope"), "--no-store", env=env)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_predict_ocr_masks_numbers_unless_asked(tmp_path):
    from evaluation.documents.render import render

    sample = render("id_card_front", 4, perspective=0.03, blur=0.0, noise=2.0)
    path = tmp_path / "card.jpg"
    path.write_bytes(jpeg_bytes(sample.image))
    number = sample.truth["id_number"]
    shown = run("predict", "ocr", str(path), "--doc-type", "id_card_front")
    assert shown.returncode == 0, shown.stderr
    assert "id_card_front" in shown.stdout and number not in shown.stdout
    assert f"{number[:4]}**********{number[-4:]}" in shown.stdout
    assert number in run("predict", "ocr", str(path), "--show-numbers").stdout
    as_json = json.loads(run("predict", "ocr", str(path), "--json").stdout)
    assert as_json["doc_type"] == "id_card_front" and as_json["fields"]["id_number"]["value"] == number
    bad = run("predict", "ocr", str(path), "--doc-type", "library_card")
    assert bad.returncode == 2 and "unknown doc_type" in bad.stderr


def test_evaluate_ocr_logs_per_type_field_and_group(tmp_path):
    import mlflow

    env = {"VERISERVE_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": ""}
    out = run("evaluate", "ocr", "--per-type", "2", "--doc-type", "id_card_front", "--doc-type", "bank_card",
              "--json", env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result["by_type"]) == {"id_card_front", "bank_card"}
    assert result["overall"]["n"] == 2 * 6 + 2 * 3 and 0.8 <= result["overall"]["field_accuracy"] <= 1
    assert "id_card_front.id_number" in result["by_field"]
    assert set(result["by_group"]) & {"common_name", "minority_name", "rare_char"}
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    run_ = client.get_run(result["mlflow_run_id"])
    assert run_.data.metrics["field_accuracy"] == result["overall"]["field_accuracy"]
    assert "type.bank_card.cer" in run_.data.metrics
    assert {a.path for a in client.list_artifacts(run_.info.run_id)} >= {"evaluation.json", "plots"}


def test_speech_commands(tmp_path):
    wav = tmp_path / "yes.wav"
    made = run("predict", "tts", "yes I confirm", "--lang", "en", "--voice", "f2", "--out", str(wav), "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["duration_s"] > 0.5 and wav.read_bytes()[:4] == b"RIFF"
    heard = json.loads(run("predict", "asr", str(wav), "--lang", "en", "--mode", "grammar", "--phrase", "yes",
                           "--phrase", "no", "--phrase", "yes I confirm", "--json").stdout)
    assert heard["text"] in ("yes i confirm", "yes")
    ok = run("predict", "confirm", str(wav), "--lang", "en", "--mode", "intent")
    assert ok.returncode == 0 and "PASSED" in ok.stdout
    bad = run("predict", "asr", str(tmp_path / "missing.wav"), "--lang", "en")
    assert bad.returncode == 2 and "cannot read" in bad.stderr


def test_evaluate_speech_round_trips(tmp_path):
    env = {"VERISERVE_HOME": str(tmp_path / "home"), "MLFLOW_TRACKING_URI": ""}
    assert run("models", "bootstrap", env=env).returncode == 0
    out = run("evaluate", "speech", "--repeats", "1", "--json", env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result["by_task"]) == {"zh", "en-grammar", "en-open"}
    assert result["by_task"]["zh"]["accuracy"] >= 0.75  # measured 0.9+: unseen voices, 8-44.1 kHz, noise
    assert set(result["by_condition"]["zh.rate_hz"]) <= {"8000", "16000", "44100"}
    assert set(result["by_condition"]["zh.group"]) == {"seen", "unseen"}
    assert result["by_task"]["zh"]["rtf_p50"] < 1.0 and "wer" in result["by_task"]["en-open"]


@pytest.mark.slow
def test_model_risk_commands_end_to_end(tmp_path, crops_on_disk):
    """evaluate -> report -> promote through the gate -> drift in monitoring -> reviewer record."""
    import datetime as dt

    home = tmp_path / "home"
    env = {"VERISERVE_HOME": str(home), "MLFLOW_TRACKING_URI": ""}
    assert run("models", "bootstrap", env=env).returncode == 0
    ev = run("evaluate", "liveness-passive", "--json", env=env)
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["version"] == "1" and "presented_sex" in json.loads(ev.stdout)["gaps"]
    out = tmp_path / "reports" / "lp1.html"
    rep = run("report", "liveness-passive@champion", "--out", str(out), "--json", env=env)
    assert rep.returncode == 0, rep.stderr
    data = json.loads(rep.stdout)
    assert out.is_file() and out.with_suffix(".json").is_file() and len(data["clauses"]) == 5
    assert 'alt="importance"' in out.read_text()  # the TreeExplainer importance plot is inline
    promote = run("models", "promote", "liveness-passive", "1", "--reason", "reviewed", env=env)
    assert promote.returncode == (2 if data["breaches"] else 0), promote.stderr  # gate agrees with the report

    cnn = run("evaluate", "liveness-passive", "2", env=env)
    assert cnn.returncode == 0, cnn.stderr
    cnn_rep = run("report", "liveness-passive/2", "--out", str(tmp_path / "reports" / "lp2.html"), env=env)
    assert cnn_rep.returncode == 0 and 'alt="heat_maps"' in (tmp_path / "reports" / "lp2.html").read_text()

    steady = run("monitor", "liveness-passive", "--json", env=env)
    assert steady.returncode == 0 and "at least" in json.loads(steady.stdout)["notes"][0]
    os.environ["VERISERVE_HOME"], saved = str(home), os.environ.get("VERISERVE_HOME")
    try:
        from serving.monitoring import MonitorLog

        log = MonitorLog()
        for i in range(60):  # a window of attacks getting through as low-scoring "bona fide" traffic
            log.record("liveness-passive", "1", "live", 0.05 + i * 0.001, False)
    finally:
        os.environ.pop("VERISERVE_HOME") if saved is None else os.environ.update(VERISERVE_HOME=saved)
    drifted = run("monitor", "liveness-passive", env=env)
    assert drifted.returncode == 1 and "DRIFT" in drifted.stdout and "PSI" in drifted.stdout
    again = json.loads(run("report", "liveness-passive", "--out", str(out), "--json", env=env).stdout)
    assert {c["clause"]: c["status"] for c in again["clauses"]}["7.3(c)"] == "fail"

    decision = run("predict", "face-match", *map(str, crops_on_disk), "--json", env=env)
    saved_response = tmp_path / "decision.json"
    saved_response.write_text(decision.stdout)
    now = dt.datetime.now(dt.UTC).isoformat()
    record = run("evidence", str(saved_response), "--at", now, env=env)
    assert record.returncode == 0, record.stderr
    assert "face-match-dlib" in record.stdout and "face-match v1 was champion then" in record.stdout
    assert run("evidence", str(tmp_path / "missing.json"), env=env).returncode == 2
    assert run("report", "face-match", env=env).returncode == 2  # no evidence yet: says what to run
