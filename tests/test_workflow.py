"""The workflow engine on a real SQLite store, a real police simulator over HTTP on 127.0.0.1 and the real
keystore: a paper case from verification to signed archive, rejection, review with four eyes, retries,
crash-resume of a killed process, audit-chain tampering and role refusals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from workflow import audit, review
from workflow.blobs import BlobStore
from workflow.db import audit as audit_table
from workflow.db import connect, step_runs
from workflow.engine import Retry, Services, Workflow, load_case_type
from workflow.police import HttpPoliceClient
from workflow.police_sim import Server, Simulator
from workflow.rbac import Forbidden, Unauthorized, authenticate, create_user, require
from workflow.signing import documents as docs
from workflow.signing import seal as seals
from workflow.signing import sm
from workflow.signing.keystore import Keystore

PERSON = {"name": "张伟", "id_number": "420102199003071234", "phone": "13812345678"}
PAPER = """
name: paper_case
channels: [counter, witness]
steps:
  - {id: police_a, kind: police, pass: [{path: consistent, op: eq, value: true}], on_fail: reject}
  - {id: police_b, kind: police, pass: [{path: consistent, op: eq, value: true}], on_fail: review}
  - {id: documents, kind: documents, kinds: [acceptance_receipt, account_contract]}
  - {id: signing, kind: sign, key: "seal-{branch}"}
  - {id: archive, kind: archive}
"""
REVIEWED = """
name: reviewed_case
channels: [counter]
steps:
  - {id: police, kind: police, pass: [{path: checks.phone, op: eq, value: match}], on_fail: review}
  - {id: documents, kind: documents, kinds: [acceptance_receipt]}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server on 127.0.0.1 (skipped where PostgreSQL or psycopg is not installed)."""
    import glob
    import shutil as sh

    pytest.importorskip("psycopg")
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins and not sh.which("initdb"):
        pytest.skip("PostgreSQL server binaries are not installed")
    bindir = Path(bins[-1]).parent if bins else Path(sh.which("initdb")).parent
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="veriserve-pg-"))  # pytest's tmp dirs are closed to the postgres user
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        sh.chown(root, "postgres")
    port = free_port()
    run = lambda *a: subprocess.run([*as_user, *a], capture_output=True, text=True, timeout=120)  # noqa: E731
    assert run(str(bindir / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres").returncode == 0
    started = run(str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"), "-w", "-o",
                  f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start")
    assert started.returncode == 0, started.stderr
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    run(str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop")
    sh.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'workflow.db'}"
    import psycopg

    base = request.getfixturevalue("postgres")
    name = f"wf_{os.getpid()}_{int(time.time() * 1e6)}"
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


@pytest.fixture()
def env(tmp_path, monkeypatch, db_url):
    monkeypatch.setenv("VERISERVE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VERISERVE_KEYSTORE_KEY", raising=False)
    monkeypatch.setenv("VERISERVE_WORKFLOW_DB", db_url)  # the killed runner subprocess inherits it
    sim = Simulator(tmp_path / "police.db")
    sim.seed([PERSON])
    server = Server(sim.app(), free_port()).start()
    keystore = Keystore()
    keystore.create("seal-wuhan")
    keystore.save_certificate("seal-wuhan", seals.issue_certificate(keystore, "seal-wuhan", "示例证券武汉营业部"))
    (tmp_path / "paper.yaml").write_text(PAPER)
    (tmp_path / "reviewed.yaml").write_text(REVIEWED)
    db = connect()
    services = Services(models=None, police=HttpPoliceClient(server.url), keystore=keystore, blobs=BlobStore(),
                        archive_root=tmp_path / "home" / "archive",
                        organisations={"wuhan": "示例证券股份有限公司武汉营业部"})
    wf = Workflow(db, services, {"paper_case": load_case_type(tmp_path / "paper.yaml"),
                                 "reviewed_case": load_case_type(tmp_path / "reviewed.yaml")},
                  retry=Retry(attempts=4, base_delay_s=0.05))
    yield {"wf": wf, "db": db, "sim": sim, "server": server, "tmp": tmp_path, "keystore": keystore}
    server.stop()


def new_case(wf, case_type="paper_case", **fields) -> str:
    return wf.create_case("li.acceptor", "acceptor", case_type=case_type, channel="counter", branch="wuhan",
                          files={}, fields={**PERSON, **fields})


def test_paper_case_ends_in_a_signed_archive(env):
    wf = env["wf"]
    case_id = new_case(wf)
    assert wf.advance(case_id) == "completed"
    results = wf.step_results(case_id)
    assert list(results) == ["police_a", "police_b", "documents", "signing", "archive"]
    assert all(r["status"] == "done" and r["attempts"] == 1 and len(r["input_sm3"]) == 64 for r in results.values())
    folder = env["tmp"] / "home" / "archive" / case_id
    index = json.loads((folder / "index.json").read_text())
    ks = env["keystore"]
    for kind in ("acceptance_receipt", "account_contract"):
        pdf = (folder / f"doc_{kind}.pdf").read_bytes()
        manifest = json.loads((folder / f"doc_{kind}.pdf.sig.json").read_text())
        result = docs.verify(pdf, manifest, ca_key=ks.public_key(seals.CA_KEY), tsa_key=ks.public_key(seals.TSA_KEY))
        assert result.valid and result.signer == "示例证券武汉营业部"
        assert index[f"doc_{kind}.pdf"] == sm.sm3(pdf).hex()
    record = json.loads((folder / "evidence.json").read_text())
    assert set(record["steps"]) == {"police_a", "police_b", "documents", "signing"}
    raw = b"".join(p.read_bytes() for p in (env["tmp"] / "home").rglob("*") if p.is_file() and "archive" not in str(p))
    assert PERSON["id_number"].encode() not in raw and PERSON["phone"].encode() not in raw  # encrypted at rest
    assert PERSON["id_number"] not in json.dumps(record, ensure_ascii=False)
    assert audit.verify(env["db"]) == []


def test_authority_mismatch_rejects(env):
    case_id = new_case(env["wf"], name="李四")
    assert env["wf"].advance(case_id) == "rejected"
    assert list(env["wf"].step_results(case_id)) == ["police_a"]


def test_review_needs_four_eyes(env):
    wf, db = env["wf"], env["db"]
    case_id = new_case(wf, "reviewed_case", phone="13900000000")  # the authority has another phone
    assert wf.advance(case_id) == "review"
    tokens = {n: create_user(db, n, r, b) for n, r, b in (("alice", "operator", ""), ("bob", "checker", ""),
                                                          ("li", "acceptor", "wuhan"), ("zhou", "compliance", ""))}
    users = {n: authenticate(db, t) for n, t in tokens.items()}
    items = review.queue(db, users["alice"])
    assert len(items) == 1 and items[0]["step"] == "police" and "phone" in items[0]["reason"]
    assert "13900000000" not in json.dumps(items, ensure_ascii=False)
    with pytest.raises(Forbidden):
        review.decide(db, users["li"], items[0]["id"], "approve")
    with pytest.raises(Forbidden):
        review.decide(db, users["zhou"], items[0]["id"], "approve")  # compliance reads only
    review.decide(db, users["alice"], items[0]["id"], "approve", note="phone changed last month", minutes=4)
    alice_as_checker = authenticate(db, tokens["alice"])
    with pytest.raises(Forbidden):
        review.check(db, alice_as_checker, items[0]["id"], "approve")  # operators cannot check at all
    assert review.check(db, users["bob"], items[0]["id"], "approve", minutes=2)["status"] == "approved"
    assert wf.advance(case_id) == "completed"
    assert audit.verify(db) == []
    actions = [r["action"] for r in audit.records(db, case_id)]
    assert actions == ["case.create", "step.review", "review.decide", "review.check", "step.done", "case.complete"]


def test_checker_must_not_be_the_operator(env):
    db = env["db"]
    case_id = new_case(env["wf"], "reviewed_case", phone="13900000000")
    env["wf"].advance(case_id)
    from workflow.rbac import User

    same = User("wang", "operator", "")
    rid = review.queue(db, same)[0]["id"]
    review.decide(db, same, rid, "reject")
    with pytest.raises(Forbidden, match="four-eyes"):
        review.check(db, User("wang", "checker", ""), rid, "reject")  # same person with a second role
    assert review.check(db, User("chen", "checker", ""), rid, "approve")["status"] == "returned"  # disagreement
    review.decide(db, same, rid, "reject")
    assert review.check(db, User("chen", "checker", ""), rid, "reject")["status"] == "rejected"
    assert env["wf"].case(case_id)["status"] == "rejected"


def test_retries_with_backoff_then_gives_up(env):
    env["sim"].fail_next = 2
    case_id = new_case(env["wf"])
    assert env["wf"].advance(case_id) == "completed"
    assert env["wf"].step_results(case_id)["police_a"]["attempts"] == 3
    env["sim"].fail_next = 100
    stuck = new_case(env["wf"])
    assert env["wf"].advance(stuck) == "failed"
    assert any(r["action"] == "step.unavailable" for r in audit.records(env["db"], stuck))
    env["sim"].fail_next = 0


def test_killed_process_resumes_without_repeating_finished_steps(env):
    wf, sim = env["wf"], env["sim"]
    case_id = new_case(wf)
    sim.delay_s, sim.delay_from = 60.0, 2  # the second authority call hangs: police_b is in flight
    runner = textwrap.dedent(f"""
        from pathlib import Path
        from workflow.blobs import BlobStore
        from workflow.db import connect
        from workflow.engine import Services, Workflow, load_case_type
        from workflow.police import HttpPoliceClient
        from workflow.signing.keystore import Keystore
        services = Services(models=None, police=HttpPoliceClient({env['server'].url!r}, timeout_s=120),
                            keystore=Keystore(), blobs=BlobStore(), archive_root=Path({str(env['tmp'])!r}) / 'arch')
        wf = Workflow(connect(), services, {{"paper_case": load_case_type({str(env['tmp'] / 'paper.yaml')!r})}})
        wf.advance({case_id!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", runner], env=os.environ.copy(), cwd=Path(__file__).parents[1])
    deadline = time.time() + 120
    while sim.request_count() < 2:
        assert proc.poll() is None and time.time() < deadline, "runner ended before reaching police_b"
        time.sleep(0.1)
    before = wf.step_results(case_id)
    assert list(before) == ["police_a"]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    sim.delay_s = 0.0
    assert wf.resume_all() == {case_id: "completed"}
    after = wf.step_results(case_id)
    assert after["police_a"]["output"] == before["police_a"]["output"]  # same authority reference: not re-run
    assert after["police_a"]["id"] == before["police_a"]["id"]
    assert sim.request_count() == 3  # police_a once, police_b killed once and run once more
    with env["db"].connect() as con:
        assert con.execute(select(step_runs.c.step).where(step_runs.c.case_id == case_id)
                           .order_by(step_runs.c.id)).all() == [
            ("police_a",), ("police_b",), ("documents",), ("signing",), ("archive",)]


def test_audit_chain_finds_edits_and_deletions(env):
    wf, db = env["wf"], env["db"]
    wf.advance(new_case(wf))
    assert audit.verify(db) == [] and audit.count(db) >= 6
    with db.begin() as con:
        con.execute(update(audit_table).where(audit_table.c.seq == 3).values(actor="mallory"))
    assert any("record 3" in p and "altered" in p for p in audit.verify(db))
    with db.begin() as con:
        con.execute(update(audit_table).where(audit_table.c.seq == 3).values(actor="workflow-runner"))
    assert audit.verify(db) == []
    with db.begin() as con:
        con.execute(delete(audit_table).where(audit_table.c.seq == 4))
    problems = audit.verify(db)
    assert any("missing" in p for p in problems) and any("does not follow" in p for p in problems)
    with db.begin() as con:
        detail = con.execute(select(audit_table.c.detail).where(audit_table.c.seq == 2)).scalar_one()
        con.execute(update(audit_table).where(audit_table.c.seq == 2).values(detail={**detail, "step": "x"}))
    assert any("record 2" in p for p in audit.verify(db))


def test_tokens_and_roles(env):
    db = env["db"]
    token = create_user(db, "li", "acceptor", "wuhan")
    assert token.startswith("vs_")
    from workflow.db import users

    with db.connect() as con:
        stored = [tuple(r) for r in con.execute(select(users))]
    assert token not in json.dumps(stored, default=str)  # only its SM3 digest is stored
    li = authenticate(db, token)
    require(li, "case.create", branch="wuhan")
    with pytest.raises(Forbidden, match="works at wuhan"):
        require(li, "case.create", branch="chengdu")
    with pytest.raises(Forbidden):
        require(li, "audit.read")
    with pytest.raises(Unauthorized):
        authenticate(db, "vs_forged")
    with pytest.raises(Unauthorized):
        authenticate(db, None)
    with pytest.raises(Exception, match="already exists"):
        create_user(db, "li", "operator")
    with pytest.raises(Exception, match="branch"):
        create_user(db, "wu", "acceptor")


def test_workflow_never_imports_model_code():
    code = ("import sys, workflow.engine, workflow.api, workflow.cost, workflow.ops, workflow.police_sim; "
            "print(sorted(m for m in sys.modules if m == 'models' or m.startswith('models.'))); "
            "print([m for m in ('torch', 'dlib', 'onnxruntime', 'rapidocr', 'ray') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).parents[1]).stdout.splitlines()
    assert out == ["[]", "[]"]


def test_workflow_commands(tmp_path):
    from tests.test_cli import run

    db = tmp_path / "wf.db"
    env = {"VERISERVE_HOME": str(tmp_path / "home"), "VERISERVE_WORKFLOW_DB": f"sqlite:///{db}"}
    made = run("users", "create", "li", "--role", "acceptor", "--branch", "wuhan", "--json", env=env)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["token"].startswith("vs_")
    assert run("users", "create", "bad", "--role", "king", env=env).returncode == 2
    assert run("users", "create", "zhou", "--role", "compliance", env=env).returncode == 0
    ok = run("audit", "verify", env=env)
    assert ok.returncode == 0 and "2 records" in ok.stdout
    import sqlite3

    with sqlite3.connect(db) as con:
        con.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 1")
    tampered = run("audit", "verify", env=env)
    assert tampered.returncode == 1 and "record 1" in tampered.stderr
    cost = run("cost", "report", "--month", "2026-11", "--out", str(tmp_path / "rep"), "--json", env=env)
    assert cost.returncode == 0 and json.loads(cost.stdout)["overall"]["cases"] == 0
    assert (tmp_path / "rep" / "cost-2026-11.png").is_file()
    assert run("ops", "report", env=env).returncode == 0
    assert run("cases", "list", "--json", env=env).stdout.strip() == "[]"
    missing = run("cases", "show", "C-nope", env=env)
    assert missing.returncode == 2 and "no case" in missing.stderr


def test_police_elements_over_http(tmp_path):
    sim = Simulator(tmp_path / "p.db", api_key="secret")
    sim.seed([{**PERSON, "bank_card": "6222021234567890123", "photo": b"registered"}])
    server = Server(sim.app(), free_port()).start()
    try:
        client = HttpPoliceClient(server.url, "secret")
        four = client.verify(name=PERSON["name"], id_number=PERSON["id_number"], bank_card="6222021234567890123",
                             phone=PERSON["phone"])
        assert four["elements"] == 4 and four["consistent"] is True
        card = client.verify(name=PERSON["name"], id_number=PERSON["id_number"], bank_card="6222020000000000000")
        assert card["elements"] == 3 and not card["consistent"] and card["checks"]["bank_card"] == "mismatch"
        unknown = client.verify(name="王五", id_number="110105199001011239")
        assert unknown["checks"] == {"name_id": "not_found"} and not unknown["consistent"]
        photo = client.verify(name=PERSON["name"], id_number=PERSON["id_number"], photo=b"selfie")
        assert photo["checks"]["photo"] == {"status": "unavailable"} and not photo["consistent"]  # no face service
        with pytest.raises(Exception, match="refused"):
            HttpPoliceClient(server.url, "wrong").verify(name="x", id_number="y")
    finally:
        server.stop()
    from workflow.police import PoliceUnavailable

    with pytest.raises(PoliceUnavailable):
        HttpPoliceClient(server.url, "secret", timeout_s=2).verify(name="x", id_number="y")


def test_workflow_api_with_roles(env):
    from fastapi.testclient import TestClient

    from workflow.api import create_app

    wf, db = env["wf"], env["db"]
    tokens = {n: create_user(db, n, r, b) for n, r, b in (("li", "acceptor", "wuhan"), ("alice", "operator", ""),
                                                          ("bob", "checker", ""), ("zhou", "compliance", ""))}
    api = TestClient(create_app(wf, run_in_background=False))

    def h(name):
        return {"Authorization": f"Bearer {tokens[name]}"}

    form = {"case_type": "reviewed_case", "channel": "counter", "branch": "wuhan",
            "fields": json.dumps({**PERSON, "phone": "13900000000"})}
    assert api.post("/v1/cases", data=form).json()["error"]["code"] == "unauthorized"
    assert api.post("/v1/cases", data=form, headers=h("alice")).status_code == 403  # operators do not accept cases
    bad = api.post("/v1/cases", data={**form, "channel": "fax"}, headers=h("li"))
    assert bad.status_code == 400 and "channel" in bad.json()["error"]["message"]
    case_id = api.post("/v1/cases", data=form, headers=h("li")).json()["case_id"]
    assert api.post(f"/v1/cases/{case_id}/run", headers=h("li")).json()["status"] == "review"
    extra = api.post(f"/v1/cases/{case_id}/steps/police", files={"note_scan": ("n.jpg", b"\xff\xd8scan")},
                     headers=h("li")).json()
    assert "note_scan" in extra["inputs"] and extra["status"] == "review"
    queue = api.get("/v1/review/queue", headers=h("alice")).json()
    rid = queue[0]["id"]
    assert api.get("/v1/review/queue", headers=h("li")).status_code == 403
    assert api.post(f"/v1/cases/{case_id}/review", content=b"{oops", headers=h("alice")).status_code == 400
    for body in ({"review_id": "one", "decision": "approve"}, {"review_id": rid, "decision": "approve", "minutes": "x"},
                 [1, 2], {"decision": "approve"}):
        assert api.post(f"/v1/cases/{case_id}/review", json=body, headers=h("alice")).status_code == 400
    other = api.post("/v1/cases/C-other/review", json={"review_id": rid, "decision": "approve"}, headers=h("alice"))
    assert other.status_code == 404 and other.json()["error"]["code"] == "unknown_review"
    assert api.get("/v1/cases/C-none", headers=h("alice")).json()["error"]["code"] == "unknown_case"
    assert api.post(f"/v1/cases/{case_id}/review", json={"review_id": rid, "decision": "approve"},
                    headers=h("alice")).json()["status"] == "checking"
    assert api.post(f"/v1/cases/{case_id}/review", json={"review_id": rid, "decision": "approve"},
                    headers=h("bob")).json()["status"] == "approved"
    done = api.get(f"/v1/cases/{case_id}", headers=h("alice")).json()
    assert done["status"] == "completed" and done["customer"]["id_number"] == PERSON["id_number"]
    masked = api.get(f"/v1/cases/{case_id}", headers=h("zhou")).json()
    assert masked["customer"]["id_number"] == "4201**********1234"
    pdf = docs.render("acceptance_receipt", {"customer_name": "张伟", "id_number_masked": "4201**********1234",
                                             "branch": "wuhan", "case_id": case_id, "date": "2026-12-04",
                                             "channel": "临柜", "accepted_at": "2026-12-04 10:00"})
    assert api.post("/v1/sign", files={"document": ("r.pdf", pdf)}, data={"key": "seal-wuhan"},
                    headers=h("li")).status_code == 403
    signed = api.post("/v1/sign", files={"document": ("r.pdf", pdf)}, data={"key": "seal-wuhan"}, headers=h("alice"))
    manifest = json.dumps(signed.json()["manifest"]).encode()
    ok = api.post("/v1/sign/verify", files={"document": ("r.pdf", pdf), "manifest": ("m.json", manifest)},
                  headers=h("zhou")).json()
    assert ok["valid"] and ok["timestamp"]
    for junk in (b"[1, 2]", b"not json", b'{"format": "x"}'):
        r = api.post("/v1/sign/verify", files={"document": ("r.pdf", pdf), "manifest": ("m.json", junk)},
                     headers=h("zhou"))
        assert r.status_code in (200, 400) and (r.status_code == 400 or r.json()["valid"] is False)
    assert api.post("/v1/sign/verify", files={"document": ("r.pdf", b""), "manifest": ("m.json", manifest)},
                    headers=h("zhou")).status_code == 400  # empty upload
    no_key = api.post("/v1/sign", files={"document": ("r.pdf", pdf)}, data={"key": "nobody"}, headers=h("alice"))
    assert no_key.status_code == 404 and no_key.json()["error"]["code"] == "unknown_key"
    assert api.get("/v1/audit/verify", headers=h("zhou")).json()["intact"] is True
    assert api.get("/v1/cost/report", params={"month": "bad"}, headers=h("zhou")).status_code == 400
