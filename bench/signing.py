"""Signing throughput on this machine: SM2 sign/verify (gmssl arithmetic, pure Python), SM3 and SM4-GCM
(OpenSSL through cryptography), and one e-document rendered, signed, sealed, timestamped and verified.

    .venv/bin/python bench/signing.py [--n 20]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from workflow.signing import documents as docs
from workflow.signing import seal as seals
from workflow.signing import sm
from workflow.signing.keystore import Keystore


def per_call_ms(fn, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return round((time.perf_counter() - t0) * 1000 / n, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="repetitions per measurement")
    n = ap.parse_args().n
    d = sm.generate_private_key()
    key = sm.public_key(d)
    msg = os.urandom(64 * 1024)
    sig = sm.sign(d, msg)
    big = os.urandom(8 * 1024 * 1024)
    k16 = os.urandom(16)
    out = {
        "sm2_keygen_ms": per_call_ms(lambda: sm.public_key(sm.generate_private_key()), n),
        "sm2_sign_64KiB_ms": per_call_ms(lambda: sm.sign(d, msg), n),
        "sm2_verify_64KiB_ms": per_call_ms(lambda: sm.verify(key, msg, sig), n),
        "sm3_MB_per_s": round(8 / (per_call_ms(lambda: sm.sm3(big), 3) / 1000), 1),
        "sm4_gcm_MB_per_s": round(8 / (per_call_ms(lambda: sm.sm4_gcm_encrypt(k16, big), 3) / 1000), 1),
    }
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VERISERVE_HOME"] = tmp
        os.environ.pop("VERISERVE_KEYSTORE_KEY", None)
        store = Keystore()
        store.create("bench")
        cert = seals.issue_certificate(store, "bench", "示例证券股份有限公司武汉营业部")
        png = seals.seal_image(cert["subject"])
        fields = {"customer_name": "张伟", "id_number_masked": "4201**********1234", "branch": "武汉营业部",
                  "case_id": "C1", "date": "2026-12-04"}
        out["document_render_ms"] = per_call_ms(lambda: docs.render("account_contract", fields, png), n)
        pdf = docs.render("account_contract", fields, png)
        out["document_sign_seal_timestamp_ms"] = per_call_ms(
            lambda: docs.sign_document(store, pdf, key="bench", certificate=cert, seal_png=png), n)
        manifest = docs.sign_document(store, pdf, key="bench", certificate=cert, seal_png=png)
        ca, tsa = store.public_key(seals.CA_KEY), store.public_key(seals.TSA_KEY)
        out["document_verify_ms"] = per_call_ms(lambda: docs.verify(pdf, manifest, ca_key=ca, tsa_key=tsa), n)
        out["pdf_bytes"] = len(pdf)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
