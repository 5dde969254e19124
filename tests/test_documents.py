"""E-documents: rendered to PDF with the seal, signed, timestamped; any changed byte fails with its reason.
And the signing commands of API.md, with the exact openssl line."""

from __future__ import annotations

import base64
import copy
import json
import shutil
import subprocess

import pytest

from tests.test_cli import run
from workflow.signing import documents as docs
from workflow.signing import seal as seals
from workflow.signing import sm
from workflow.signing.keystore import Keystore

FIELDS = {"customer_name": "阿依古丽·买买提", "id_number_masked": "6501**********2345", "branch": "乌鲁木齐营业部",
          "case_id": "C-20261204-0001", "date": "2026-12-04", "risk_level": "C3 稳健型", "product_level": "R3",
          "match": "匹配", "channel": "网上", "accepted_at": "2026-12-04 10:31"}


@pytest.fixture()
def signer(tmp_path, monkeypatch):
    monkeypatch.delenv("VERISERVE_KEYSTORE_KEY", raising=False)
    store = Keystore(tmp_path / "ks.db")
    store.create("seal-urumqi")
    cert = seals.issue_certificate(store, "seal-urumqi", "示例证券股份有限公司乌鲁木齐营业部")
    return store, cert, seals.seal_image("示例证券股份有限公司乌鲁木齐营业部")


def keys(store):
    return {"ca_key": store.public_key(seals.CA_KEY), "tsa_key": store.public_key(seals.TSA_KEY)}


@pytest.mark.parametrize("kind", list(docs.KINDS))
def test_every_document_renders_signs_and_verifies(kind, signer):
    store, cert, png = signer
    pdf = docs.render(kind, FIELDS, png)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and b"/Image" in pdf
    assert docs.render(kind, FIELDS, png) == pdf  # reproducible bytes
    manifest = docs.sign_document(store, pdf, key="seal-urumqi", certificate=cert, seal_png=png)
    result = docs.verify(pdf, manifest, **keys(store))
    assert result.valid and result.signer.endswith("乌鲁木齐营业部") and result.timestamp


def test_any_change_fails_with_a_clear_reason(signer):
    store, cert, png = signer
    pdf = docs.render("account_contract", FIELDS, png)
    manifest = docs.sign_document(store, pdf, key="seal-urumqi", certificate=cert, seal_png=png)
    for i in (0, len(pdf) // 3, len(pdf) - 1):
        changed = bytearray(pdf)
        changed[i] ^= 0x01
        r = docs.verify(bytes(changed), manifest, **keys(store))
        assert not r.valid and "changed after signing" in r.reason

    def tampered(edit) -> str:
        m = copy.deepcopy(manifest)
        edit(m)
        return docs.verify(pdf, m, **keys(store)).reason

    assert "not issued by this CA" in tampered(lambda m: m["certificate"].update(subject="冒名营业部"))
    store.create("rogue")
    rogue_sig = base64.b64encode(store.sign("rogue", pdf)).decode()
    assert "timestamp" in tampered(lambda m: m.update(signature=rogue_sig))  # the token covers the signature
    rogue_ts = seals.timestamp(store, sm.sm3(
        base64.b64decode(rogue_sig)))
    assert "signature: the SM2 signature does not match" in tampered(
        lambda m: m.update(signature=rogue_sig, timestamp=rogue_ts))
    assert "seal image was replaced" in tampered(lambda m: m["seal"].update(
        image_png=base64.b64encode(seals.seal_image("别的公司")).decode()))
    assert "timestamp" in tampered(lambda m: m["timestamp"].update(time="2020-01-01T00:00:00+00:00"))
    expired = seals.issue_certificate(store, "seal-urumqi", "示例证券股份有限公司乌鲁木齐营业部", days=-1)
    assert "not valid at" in tampered(lambda m: m.update(certificate=expired))
    assert "malformed" in tampered(lambda m: m.pop("seal"))
    with pytest.raises(Exception, match="missing field"):
        docs.render("suitability", {"customer_name": "x"})
    with pytest.raises(Exception, match="unknown document kind"):
        docs.render("loan", FIELDS)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl CLI is not installed")
def test_signing_commands_and_the_api_md_openssl_line(tmp_path):
    env = {"VERISERVE_HOME": str(tmp_path / "home"), "VERISERVE_KEYSTORE_KEY": ""}
    assert run("keys", "create", "seal-wuhan", "--subject", "示例证券武汉营业部", env=env).returncode == 0
    listed = json.loads(run("keys", "list", "--json", env=env).stdout)
    assert {r["name"] for r in listed} == {"seal-wuhan", "veriserve-ca", "veriserve-tsa"}
    assert run("keys", "export-public", "seal-wuhan", "--out", str(tmp_path / "PUB.pem"), env=env).returncode == 0
    doc = tmp_path / "FILE"
    doc.write_bytes(docs.render("acceptance_receipt", FIELDS))
    assert run("sign", str(doc), "--key", "seal-wuhan", "--detached", str(tmp_path / "SIG"), env=env).returncode == 0
    line = ("openssl pkeyutl -verify -pubin -inkey PUB.pem -rawin -digest sm3 -pkeyopt distid:1234567812345678 "
            "-in FILE -sigfile SIG")
    assert subprocess.run(line.split(), cwd=tmp_path, capture_output=True).returncode == 0
    assert run("sign", str(doc), "--key", "seal-wuhan", env=env).returncode == 0
    ok = json.loads(run("verify", str(doc), "--json", env=env).stdout)
    assert ok["valid"] and ok["signer"] == "示例证券武汉营业部"
    assert run("verify", str(doc), "--signature", str(tmp_path / "SIG"), "--public-key", str(tmp_path / "PUB.pem"),
               env=env).returncode == 0
    doc.write_bytes(doc.read_bytes() + b"\n")
    bad = run("verify", str(doc), env=env)
    assert bad.returncode == 1 and "changed after signing" in bad.stdout
    assert subprocess.run(line.split(), cwd=tmp_path, capture_output=True).returncode != 0
    missing = run("sign", str(tmp_path / "nope.pdf"), "--key", "seal-wuhan", env=env)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert "unknown_key" in run("sign", str(doc), "--key", "nobody", env=env).stderr
