"""What each kind of case step does. An executor gets the :class:`StepContext` and the step definition and
returns a :class:`StepResult`; it raises :class:`workflow.client.Transient` (or ``PoliceUnavailable``) for
failures worth retrying."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from workflow.errors import InvalidInput
from workflow.masking import mask_number
from workflow.rules import _MISSING, lookup
from workflow.signing import documents as docs
from workflow.signing import seal as seals
from workflow.signing import sm


@dataclass
class StepResult:
    output: dict
    evidence: dict = field(default_factory=dict)
    kept: dict = field(default_factory=dict)  # personal values to keep (encrypted) for later steps
    cpu_ms: float = 0.0
    passed: bool | None = None  # None: decided by the step's pass rules


@dataclass
class StepContext:
    case: dict  # id, channel, branch, case_type, data
    services: object  # workflow.engine.Services
    kept: dict  # decrypted values kept by earlier steps and the case fields

    def blob(self, name: str) -> bytes:
        return self.services.blobs.get(self.case["id"], name)

    def blob_names(self, name: str) -> list[str]:
        ref = self.case["data"]["inputs"].get(name)
        if ref is None:
            raise InvalidInput(f"case {self.case['id']} has no input {name!r}")
        return ref if isinstance(ref, list) else [name]


def _model_cpu_ms(output: dict) -> float:
    """CPU milliseconds the endpoint measured for this call (``cpu_ms``); endpoints without it are charged
    the model time of their evidence (single-threaded models: about the same)."""
    if isinstance(output.get("cpu_ms"), (int, float)):
        return float(output["cpu_ms"])
    return float(sum((output.get("evidence") or {}).get("timings_ms", {}).values()))


def run_http(ctx: StepContext, step: dict) -> StepResult:
    call = step["call"]
    files = []
    for field_name, blob in (call.get("files") or {}).items():
        files.append((field_name, (f"{blob}.bin", ctx.blob(blob))))
    for field_name, blob in (call.get("files_list") or {}).items():
        for i, name in enumerate(ctx.blob_names(blob)):
            files.append((field_name, (f"{blob}{i}.bin", ctx.blob(name))))
    data = {k: str(v) for k, v in (call.get("data") or {}).items()}
    output = ctx.services.models.post(call["path"], files=files, data=data)
    stored_blobs = {}
    for blob, key in (step.get("keep_blob") or {}).items():
        encoded = output.pop(key, None)
        if encoded:
            stored_blobs[blob] = ctx.services.blobs.put(ctx.case["id"], blob, base64.b64decode(encoded))
    kept = {}
    for name, path in (step.get("keep") or {}).items():
        value = lookup(output, path)
        if value is not _MISSING and value not in (None, ""):
            kept[name] = value
    evidence = {"endpoint": call["path"], "request_id": output.get("request_id", ""),
                "model_evidence": output.get("evidence", {}), "blobs": stored_blobs}
    return StepResult(output=output, evidence=evidence, kept=kept, cpu_ms=_model_cpu_ms(output),
                      passed=False if "error" in output else None)


def run_police(ctx: StepContext, step: dict) -> StepResult:
    if "name" not in ctx.kept or "id_number" not in ctx.kept:
        return StepResult(output={"error": {"code": "missing_identity",
                                            "message": "no name / ID number read from the ID card"}}, passed=False)
    photo = ctx.blob(step["photo"]) if step.get("photo") and ctx.services.blobs.exists(
        ctx.case["id"], step["photo"]) else None
    t0 = time.process_time()
    result = ctx.services.police.verify(name=ctx.kept["name"], id_number=ctx.kept["id_number"],
                                        bank_card=ctx.kept.get("bank_card"), phone=ctx.kept.get("phone"), photo=photo)
    return StepResult(output=result, evidence={"authority_reference": result.get("reference", ""),
                                               "elements": result.get("elements")},
                      cpu_ms=(time.process_time() - t0) * 1000)


def run_dual_recording(ctx: StepContext, step: dict) -> StepResult:
    """A speech session with the step's questions; each answer clip of the case is sent and judged."""
    models = ctx.services.models
    session = models.post("/v1/speech/sessions", json={"questions": step["questions"], "lang": step.get("lang", "zh")})
    if "error" in session:
        return StepResult(output=session, passed=False)
    sid = session["session_id"]
    answers, cpu = {}, 0.0
    names = ctx.case["data"]["inputs"].get("answers") or {}
    for q in step["questions"]:
        if q["id"] not in names:
            answers[q["id"]] = {"passed": False, "reason": "no answer recorded"}
            continue
        out = models.post(f"/v1/speech/sessions/{sid}/answers/{q['id']}",
                          files=[("audio", ("answer.wav", ctx.blob(names[q["id"]])))])
        cpu += _model_cpu_ms(out)
        answers[q["id"]] = {k: out.get(k) for k in ("passed", "intent", "transcript", "reason", "audio_sm3")}
    output = {"session_id": sid, "answers": answers, "all_passed": all(a.get("passed") for a in answers.values())}
    return StepResult(output=output, evidence={"session_id": sid}, cpu_ms=cpu)


def _doc_fields(ctx: StepContext) -> dict:
    c, k = ctx.case, ctx.kept
    created = dt.datetime.fromtimestamp(c["created_at"], tz=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
    return {"customer_name": k.get("name", ""), "id_number_masked": mask_number(k.get("id_number", "")),
            "branch": c["branch"], "case_id": c["id"], "date": created.date().isoformat(),
            "risk_level": c["data"].get("risk_level", "C3"), "product_level": c["data"].get("product_level", "R3"),
            "match": "匹配", "channel": {"counter": "临柜", "witness": "见证", "online": "网上"}[c["channel"]],
            "accepted_at": created.strftime("%Y-%m-%d %H:%M")}


def run_documents(ctx: StepContext, step: dict) -> StepResult:
    t0 = time.process_time()
    seal_png = seals.seal_image(ctx.services.organisation(ctx.case["branch"]))
    made = {}
    for kind in step["kinds"]:
        pdf = docs.render(kind, _doc_fields(ctx), seal_png)
        made[kind] = ctx.services.blobs.put(ctx.case["id"], f"doc_{kind}.pdf", pdf)
    ctx.services.blobs.put(ctx.case["id"], "seal.png", seal_png)
    return StepResult(output={"documents": made}, evidence={"documents": {k: v["sm3"] for k, v in made.items()}},
                      cpu_ms=(time.process_time() - t0) * 1000, passed=True)


def run_sign(ctx: StepContext, step: dict) -> StepResult:
    t0 = time.process_time()
    store, key = ctx.services.keystore, step["key"].format(branch=ctx.case["branch"])
    cert = store.certificate(key)
    seal_png = ctx.blob("seal.png")
    signed = {}
    for kind in ctx.case["data"]["steps_output"]["documents"]["documents"]:
        pdf = ctx.blob(f"doc_{kind}.pdf")
        manifest = docs.sign_document(store, pdf, key=key, certificate=cert, seal_png=seal_png,
                                      name=f"{kind}.pdf")
        ctx.services.blobs.put(ctx.case["id"], f"doc_{kind}.pdf.sig.json", json.dumps(manifest).encode())
        signed[kind] = {"sm3": manifest["document"]["sm3"], "timestamp": manifest["timestamp"]["time"],
                        "signer": cert["subject"]}
    return StepResult(output={"signed": signed}, evidence={"key": key, "certificate_serial": cert["serial"]},
                      cpu_ms=(time.process_time() - t0) * 1000, passed=True)


def run_archive(ctx: StepContext, step: dict) -> StepResult:
    """Signed documents, manifests and the case's evidence record into the archive, with an SM3 index."""
    t0 = time.process_time()
    folder = Path(ctx.services.archive_root) / ctx.case["id"]
    folder.mkdir(parents=True, exist_ok=True)
    index = {}
    for kind in ctx.case["data"]["steps_output"]["documents"]["documents"]:
        for name in (f"doc_{kind}.pdf", f"doc_{kind}.pdf.sig.json"):
            data = ctx.blob(name)
            (folder / name).write_bytes(data)
            index[name] = sm.sm3(data).hex()
    record = json.dumps(ctx.services.evidence_record(ctx.case["id"]), ensure_ascii=False, indent=1).encode()
    (folder / "evidence.json").write_bytes(record)
    index["evidence.json"] = sm.sm3(record).hex()
    (folder / "index.json").write_text(json.dumps(index, indent=1))
    return StepResult(output={"archive": str(folder), "files": len(index)}, evidence={"index": index},
                      cpu_ms=(time.process_time() - t0) * 1000, passed=True)


EXECUTORS = {"http": run_http, "police": run_police, "dual_recording": run_dual_recording,
             "documents": run_documents, "sign": run_sign, "archive": run_archive}
