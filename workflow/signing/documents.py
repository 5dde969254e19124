"""E-documents of account opening rendered to PDF (with the e-seal stamped on), signed and verified.

A signed document is the PDF plus a manifest (JSON): the document's SM3, the signer's certificate, the SM2
signature over the exact PDF bytes (with the signer's ID in the Z value), the e-seal (image and its SM2
signature over document and image digests) and a timestamp token over the signature. :func:`verify` says
which check failed — any changed byte of the PDF fails the digest check.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass

from workflow.errors import InvalidInput
from workflow.signing import seal as seals
from workflow.signing import sm
from workflow.signing.keystore import Keystore

FORMAT = "veriserve-signed-document/1"
KINDS = {
    "risk_disclosure": ("证券交易风险揭示书", [
        "证券市场价格受多种因素影响，投资者可能面临本金损失的风险。",
        "本人已认真阅读并完全理解本风险揭示书的全部内容，自愿承担投资风险。"]),
    "suitability": ("投资者适当性匹配意见书", [
        "根据您填写的风险测评问卷，您的风险承受能力等级为：{risk_level}。",
        "您申请开通的业务风险等级为：{product_level}。匹配结论：{match}。"]),
    "acceptance_receipt": ("开户业务受理回执", [
        "业务编号：{case_id}；受理渠道：{channel}；受理机构：{branch}。",
        "受理时间：{accepted_at}。请妥善保管本回执。"]),
    "account_contract": ("证券账户开户协议", [
        "甲方（客户）与乙方（证券公司）就证券账户开立及相关服务达成如下协议。",
        "乙方依法为甲方开立证券账户，甲方承诺所提供身份信息真实、准确、完整。",
        "本协议经甲方确认及乙方加盖电子签章后生效。"]),
}


def render(kind: str, fields: dict[str, str], seal_png: bytes | None = None) -> bytes:
    """One e-document as PDF bytes (reproducible: the same inputs give the same bytes)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if kind not in KINDS:
        raise InvalidInput(f"unknown document kind {kind!r}; expected one of {', '.join(KINDS)}")
    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", seals.FONT[0], subfontIndex=seals.FONT[1]))
    title, paragraphs = KINDS[kind]
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    pdf.setTitle(title)
    width, height = A4
    pdf.setFont("WQY", 20)
    pdf.drawCentredString(width / 2, height - 80, title)
    pdf.setFont("WQY", 11)
    y = height - 130
    for key in ("customer_name", "id_number_masked", "branch", "case_id"):
        if key in fields:
            label = {"customer_name": "客户姓名", "id_number_masked": "证件号码", "branch": "营业部",
                     "case_id": "业务编号"}[key]
            pdf.drawString(72, y, f"{label}：{fields[key]}")
            y -= 20
    y -= 10
    for text in paragraphs:
        try:
            line = text.format(**fields)
        except KeyError as exc:
            raise InvalidInput(f"{kind}: missing field {exc.args[0]!r}") from None
        for start in range(0, len(line), 38):
            pdf.drawString(72, y, line[start:start + 38])
            y -= 18
        y -= 8
    pdf.drawString(72, 160, f"日期：{fields.get('date', '')}")
    if seal_png:
        pdf.drawImage(ImageReader(io.BytesIO(seal_png)), width - 250, 110, 150, 150, mask="auto")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def sign_document(store: Keystore, document: bytes, *, key: str, certificate: dict, seal_png: bytes,
                  name: str = "document.pdf", user_id: bytes = sm.DEFAULT_ID) -> dict:
    """The manifest that makes ``document`` a signed, sealed and timestamped record."""
    digest = sm.sm3(document)
    if certificate.get("key") != key:
        raise InvalidInput(f"the certificate is for key {certificate.get('key')!r}, not {key!r}")
    signature = store.sign(key, document, user_id)
    image_digest = sm.sm3(seal_png)
    seal_sig = store.sign(key, seals.canonical({"document_sm3": digest.hex(), "image_sm3": image_digest.hex()}),
                          user_id)
    return {
        "format": FORMAT, "document": {"name": name, "sm3": digest.hex(), "bytes": len(document)},
        "certificate": certificate, "user_id": user_id.decode(),
        "signature": base64.b64encode(signature).decode(),
        "seal": {"image_png": base64.b64encode(seal_png).decode(), "image_sm3": image_digest.hex(),
                 "signature": base64.b64encode(seal_sig).decode()},
        "timestamp": seals.timestamp(store, sm.sm3(signature)),
    }


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str
    signer: str = ""
    signing_time: str = ""
    timestamp: str = ""


def verify(document: bytes, manifest: dict, *, ca_key: sm.PublicKey, tsa_key: sm.PublicKey) -> Verification:
    """Check digest, timestamp, certificate (at the timestamp's time), signature and seal; the first failure
    is the reason."""
    try:
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            return Verification(False, f"not a {FORMAT} manifest")
        cert, ts = manifest["certificate"], manifest["timestamp"]
        signer = cert.get("subject", "")
        if sm.sm3(document).hex() != manifest["document"]["sm3"]:
            return Verification(False, "the document was changed after signing (its SM3 digest differs)", signer)
        signature = base64.b64decode(manifest["signature"])
        problem = seals.check_timestamp(ts, sm.sm3(signature), tsa_key)  # first: the time is trusted only then
        if problem:
            return Verification(False, problem, signer)
        problem = seals.check_certificate(cert, ca_key, dt.datetime.fromisoformat(ts["time"]))
        if problem:
            return Verification(False, problem, signer)
        key = sm.PublicKey.from_pem(cert["public_key_pem"])
        user_id = manifest["user_id"].encode()
        try:
            sm.verify(key, document, signature, user_id)
        except sm.SignatureError as exc:
            return Verification(False, f"signature: {exc}", signer)
        seal = manifest["seal"]
        image = base64.b64decode(seal["image_png"])
        if sm.sm3(image).hex() != seal["image_sm3"]:
            return Verification(False, "the seal image was replaced", signer)
        try:
            sm.verify(key, seals.canonical({"document_sm3": manifest["document"]["sm3"],
                                            "image_sm3": seal["image_sm3"]}),
                      base64.b64decode(seal["signature"]), user_id)
        except sm.SignatureError:
            return Verification(False, "the e-seal's signature is not valid for this document", signer)
    except (KeyError, TypeError, ValueError) as exc:
        return Verification(False, f"malformed manifest: {exc}")
    return Verification(True, "document, certificate, signature, e-seal and timestamp all verify", signer,
                        ts["time"], ts["serial"])
