"""An account-opening case through the real model endpoints on 127.0.0.1 (Ray Serve), the police simulator
and the workflow API: a rendered ID card, a real face photo, synthesized answers — ending in signed PDFs that
verify, and fail after a one-byte change. Roles are checked on the way."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import socket

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import jpeg_bytes, rgb

pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _captures(photo: np.ndarray, n: int) -> list[bytes]:
    rng = np.random.default_rng(3)
    out = []
    for _ in range(n):
        img = np.clip(photo.astype(np.float32) * rng.uniform(0.9, 1.1) + rng.normal(0, 3, photo.shape), 0, 255)
        out.append(jpeg_bytes(img.astype(np.uint8), quality=88))
    return out


def _id_back_seed() -> int:
    from evaluation.documents.render import render

    for seed in range(50):
        truth = render("id_card_back", seed, captured=False).truth
        if truth["valid_to"] == "长期" or dt.date.fromisoformat(truth["valid_to"]) > dt.date.today():
            return seed
    raise AssertionError("no unexpired ID card back in 50 seeds")


def test_account_opening_through_the_real_endpoints(base_url, http, photo_paths, tmp_path):
    from evaluation.documents.render import render
    from workflow.api import create_app
    from workflow.blobs import BlobStore
    from workflow.client import ModelClient
    from workflow.db import connect
    from workflow.engine import Services, Workflow
    from workflow.police import HttpPoliceClient
    from workflow.police_sim import Server, Simulator
    from workflow.rbac import create_user
    from workflow.signing import seal as seals
    from workflow.signing.keystore import Keystore

    front = render("id_card_front", 7)
    back = render("id_card_back", _id_back_seed())
    grace = rgb(photo_paths["grace"])
    sim = Simulator(tmp_path / "police.db", api_key="k", face_url=base_url)
    sim.seed([{"name": front.truth["name"], "id_number": front.truth["id_number"], "phone": "13812345678",
               "photo": jpeg_bytes(grace)}])
    police = Server(sim.app(), _port()).start()
    keystore = Keystore()
    if not keystore.exists("seal-wuhan"):
        keystore.create("seal-wuhan")
        keystore.save_certificate("seal-wuhan", seals.issue_certificate(keystore, "seal-wuhan", "示例证券武汉营业部"))
    db = connect(f"sqlite:///{tmp_path / 'workflow.db'}")
    wf = Workflow(db, Services(models=ModelClient(base_url), police=HttpPoliceClient(police.url, "k"),
                               keystore=keystore, blobs=BlobStore(tmp_path / "cases"),
                               archive_root=tmp_path / "archive",
                               organisations={"wuhan": "示例证券股份有限公司武汉营业部"}))
    api = Server(create_app(wf, run_in_background=False), _port()).start()
    tokens = {n: create_user(db, n, r, b) for n, r, b in (
        ("li", "acceptor", "wuhan"), ("zhang", "acceptor", "chengdu"), ("alice", "operator", ""),
        ("bob", "checker", ""), ("zhou", "compliance", ""))}
    client = httpx.Client(base_url=api.url, timeout=600)

    def auth(name: str) -> dict:
        return {"Authorization": f"Bearer {tokens[name]}"}

    try:
        answers = {q: http.post("/v1/speech/tts", json={"text": t, "lang": "zh", "voice": "f2"}).content
                   for q, t in (("q1", "是的"), ("q2", "本人自愿"))}
        assert all(a[:4] == b"RIFF" for a in answers.values())
        files = [("id_front", ("front.jpg", jpeg_bytes(front.image))),
                 ("id_back", ("back.jpg", jpeg_bytes(back.image))), ("id_photo", ("photo.jpg", jpeg_bytes(grace)))]
        files += [("frames", (f"f{i}.jpg", b)) for i, b in enumerate(_captures(grace, 3))]
        files += [(f"answer_{q}", (f"{q}.wav", a)) for q, a in answers.items()]
        form = {"channel": "online", "branch": "wuhan", "fields": json.dumps({"phone": "13812345678"})}

        assert client.post("/v1/cases", data=form, files=files).status_code == 401
        wrong_branch = client.post("/v1/cases", data=form, files=files, headers=auth("zhang"))
        assert wrong_branch.status_code == 403 and wrong_branch.json()["error"]["code"] == "forbidden"
        bad = client.post("/v1/cases", data={**form, "fields": "{not json"}, files=files, headers=auth("li"))
        assert bad.status_code == 400 and "not JSON" in bad.json()["error"]["message"]
        created = client.post("/v1/cases", data=form, files=files, headers=auth("li"))
        assert created.status_code == 200, created.text
        case_id = created.json()["case_id"]

        case = client.post(f"/v1/cases/{case_id}/run", headers=auth("li")).json()
        reviewed = []
        while case["status"] == "review":  # a failed check goes to a person; approve it with four eyes
            queue = client.get("/v1/review/queue", headers=auth("alice")).json()
            item = [r for r in queue if r["case_id"] == case_id][0]
            reviewed.append((item["step"], item["reason"]))
            assert client.post(f"/v1/cases/{case_id}/review", json={"review_id": item["id"], "decision": "approve"},
                               headers=auth("bob")).status_code == 400  # the checker cannot go first
            assert client.post(f"/v1/cases/{case_id}/review", json={"review_id": item["id"], "decision": "approve",
                                                                     "minutes": 3}, headers=auth("alice")).json()[
                "status"] == "checking"
            assert client.post(f"/v1/cases/{case_id}/review", json={"review_id": item["id"], "decision": "approve"},
                               headers=auth("bob")).json()["status"] == "approved"
            case = client.get(f"/v1/cases/{case_id}", headers=auth("alice")).json()
        assert case["status"] == "completed", (case["status"], case["current_step"], reviewed)
        steps = case["steps"]
        assert list(steps) == ["ocr_front", "ocr_back", "police", "frames", "liveness", "face_match",
                               "dual_recording", "documents", "signing", "archive"]
        assert steps["face_match"]["output"]["match"] is True and steps["police"]["output"]["consistent"] is True
        assert steps["police"]["output"]["checks"]["photo"]["status"] == "match"
        assert steps["dual_recording"]["output"]["all_passed"] is True
        assert steps["ocr_front"]["cpu_ms"] > 0
        assert case["customer"]["id_number"] == front.truth["id_number"]  # the operator needs the full number
        masked = client.get(f"/v1/cases/{case_id}", headers=auth("zhou")).json()
        assert masked["customer"]["id_number"] != front.truth["id_number"] and "*" in masked["customer"]["id_number"]
        assert front.truth["id_number"] not in json.dumps(masked, ensure_ascii=False)

        folder = tmp_path / "archive" / case_id
        pdf = (folder / "doc_account_contract.pdf").read_bytes()
        manifest = (folder / "doc_account_contract.pdf.sig.json").read_bytes()
        ok = client.post("/v1/sign/verify", files={"document": ("c.pdf", pdf), "manifest": ("m.json", manifest)},
                         headers=auth("zhou")).json()
        assert ok["valid"] is True and ok["signer"] == "示例证券武汉营业部", ok
        changed = bytearray(pdf)
        changed[len(changed) // 2] ^= 0x01
        bad_doc = client.post("/v1/sign/verify", files={"document": ("c.pdf", bytes(changed)),
                                                        "manifest": ("m.json", manifest)}, headers=auth("zhou")).json()
        assert bad_doc["valid"] is False and "changed after signing" in bad_doc["reason"]
        Image.open(io.BytesIO(base64.b64decode(json.loads(manifest)["seal"]["image_png"]))).verify()

        assert client.get("/v1/audit/verify", headers=auth("li")).status_code == 403
        chain = client.get("/v1/audit/verify", headers=auth("zhou")).json()
        assert chain["intact"] and chain["records"] >= 12
        month = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
        cost = client.get("/v1/cost/report", params={"month": month}, headers=auth("zhou")).json()
        assert cost["overall"]["cases"] == 1 and cost["overall"]["cpu_seconds"] > 0
        assert cost["by_channel"]["online"]["saving"] > 0
        metrics = client.get("/v1/ops/metrics", headers=auth("zhou")).json()
        assert metrics["branches"]["wuhan"]["cases"] == 1
    finally:
        api.stop()
        police.stop()
