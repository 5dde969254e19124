"""HTTP endpoints of the workflow (API.md): cases, review, signing and verification, audit, operations and
cost. Every call carries ``Authorization: Bearer <token>``; errors are ``{"error": {code, message}}`` with
401/403/400/404, never a traceback. Run with ``veriserve workflow serve``."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Annotated

from fastapi import FastAPI, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse

from workflow import audit, cost, ops, review
from workflow.engine import Workflow
from workflow.errors import InvalidInput, WorkflowError
from workflow.masking import mask_detail
from workflow.rbac import Forbidden, Unauthorized, User, authenticate, require
from workflow.signing import documents as docs
from workflow.signing import seal as seals

log = logging.getLogger(__name__)
STATUS = {Unauthorized: 401, Forbidden: 403}
MAX_UPLOAD = 30 * 1024 * 1024


def create_app(wf: Workflow, *, run_in_background: bool = True) -> FastAPI:
    api = FastAPI(title="Veriserve workflow", version="1")
    lock = threading.Lock()

    @api.exception_handler(WorkflowError)
    async def _err(request: Request, exc: WorkflowError):
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        if exc.code in ("unknown_key", "unknown_case", "unknown_review"):
            status = 404
        return JSONResponse({"error": {"code": exc.code, "message": exc.message,
                                       "request_id": uuid.uuid4().hex}}, status_code=status)

    @api.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("workflow API error")
        return JSONResponse({"error": {"code": "internal_error", "message": "internal error (logged)",
                                       "request_id": uuid.uuid4().hex}}, status_code=500)

    def user(authorization: str | None) -> User:
        token = (authorization or "").removeprefix("Bearer ").strip() or None
        return authenticate(wf.db, token)

    def advance(case_id: str, actor: str) -> None:
        with lock:
            try:
                wf.advance(case_id, actor)
            except Exception:  # the case stays open; the next resume picks it up
                log.exception("advancing case %s", case_id)

    def view(case_id: str, u: User) -> dict:
        case = wf.case(case_id)
        require(u, "case.read", branch=case["branch"])
        steps = {s: {k: r[k] for k in ("status", "passed", "attempts", "output", "evidence", "cpu_ms", "error")}
                 for s, r in wf.step_results(case_id).items()}
        out = {k: case[k] for k in ("id", "case_type", "channel", "branch", "status", "current_step", "created_by",
                                    "created_at", "updated_at")}
        kept = wf._kept(case)
        out["customer"] = kept if u.can("case.read_pii") else mask_detail(kept)
        out["inputs"] = case["data"]["input_sm3"]
        out["steps"] = steps
        return out

    async def read(upload: UploadFile) -> bytes:
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise InvalidInput(f"{upload.filename}: larger than {MAX_UPLOAD // 1024 // 1024} MiB",
                               code="payload_too_large")
        if not data:
            raise InvalidInput(f"{upload.filename or 'upload'}: empty")
        return data

    @api.post("/v1/cases")
    async def create_case(request: Request, authorization: Annotated[str | None, Header()] = None,
                          case_type: Annotated[str, Form()] = "account_opening",
                          channel: Annotated[str, Form()] = "online", branch: Annotated[str, Form()] = "",
                          fields: Annotated[str, Form()] = "{}") -> dict:
        """Multipart: ``id_front``, ``id_back``, ``id_photo``, ``frames`` (repeat), ``answer_<question id>``."""
        u = user(authorization)
        branch = branch or u.branch
        require(u, "case.create", branch=branch)
        try:
            extra = json.loads(fields)
        except ValueError as exc:
            raise InvalidInput(f"fields: not JSON ({exc})") from exc
        if not isinstance(extra, dict):
            raise InvalidInput("fields: expected a JSON object")
        form = await request.form()
        files: dict = {}
        for key in set(form.keys()):
            values = [v for v in form.getlist(key) if hasattr(v, "read")]
            if not values:
                continue
            if key == "frames":
                files["frames"] = [await read(v) for v in values]
            elif key.startswith("answer_"):
                files.setdefault("answers", {})[key.removeprefix("answer_")] = await read(values[0])
            else:
                files[key] = await read(values[0])
        case_id = wf.create_case(u.name, u.role, case_type=case_type, channel=channel, branch=branch, files=files,
                                 fields=extra)
        if run_in_background:
            threading.Thread(target=advance, args=(case_id, u.name), daemon=True).start()
        return {"case_id": case_id, "status": "open"}

    @api.get("/v1/cases/{case_id}")
    def get_case(case_id: str, authorization: Annotated[str | None, Header()] = None) -> dict:
        return view(case_id, user(authorization))

    @api.post("/v1/cases/{case_id}/run")
    def run_case(case_id: str, authorization: Annotated[str | None, Header()] = None) -> dict:
        u = user(authorization)
        require(u, "case.run", branch=wf.case(case_id)["branch"])
        advance(case_id, u.name)
        return view(case_id, u)

    @api.post("/v1/cases/{case_id}/steps/{step}")
    async def add_step_input(case_id: str, step: str, request: Request,
                             authorization: Annotated[str | None, Header()] = None) -> dict:
        """Add uploads a step needs (e.g. ``answer_q1`` for the dual recording), then continue the case."""
        u = user(authorization)
        case = wf.case(case_id)
        require(u, "case.run", branch=case["branch"])
        form = await request.form()
        added = {}
        for key in form:
            value = form[key]
            if hasattr(value, "read"):
                added[key] = await read(value)
        wf.add_inputs(case_id, added, actor=u.name, role=u.role, step=step)
        advance(case_id, u.name)
        return view(case_id, u)

    @api.get("/v1/review/queue")
    def review_queue(authorization: Annotated[str | None, Header()] = None) -> list[dict]:
        return review.queue(wf.db, user(authorization))

    @api.post("/v1/cases/{case_id}/review")
    async def review_case(case_id: str, request: Request,
                          authorization: Annotated[str | None, Header()] = None) -> dict:
        """``{"review_id", "decision": approve|reject, "note", "minutes"}``: an operator decides, a checker confirms."""
        u = user(authorization)
        try:
            body = await request.json()
        except ValueError as exc:
            raise InvalidInput(f"body: not JSON ({exc})") from exc
        if not isinstance(body, dict) or "review_id" not in body or "decision" not in body:
            raise InvalidInput("body: need review_id and decision")
        try:
            review_id, minutes = int(body["review_id"]), float(body.get("minutes", 0))
        except (TypeError, ValueError) as exc:
            raise InvalidInput("body: review_id must be an integer and minutes a number") from exc
        if review.case_of(wf.db, review_id) != case_id:
            raise InvalidInput(f"review {review_id} does not belong to case {case_id}", code="unknown_review")
        fn = review.check if u.role == "checker" else review.decide
        out = fn(wf.db, u, review_id, str(body["decision"]), str(body.get("note", "")), minutes)
        if out["status"] == "approved":
            advance(case_id, u.name)
        return out

    @api.post("/v1/sign")
    async def sign(document: Annotated[UploadFile, File()], key: Annotated[str, Form()],
                   authorization: Annotated[str | None, Header()] = None) -> dict:
        u = user(authorization)
        require(u, "sign")
        data = await read(document)
        store = wf.services.keystore
        cert = store.certificate(key)
        manifest = docs.sign_document(store, data, key=key, certificate=cert, name=document.filename or "document",
                                      seal_png=seals.seal_image(cert["subject"]))
        audit.append(wf.db, u.name, u.role, "document.sign", detail={"key": key, "sm3": manifest["document"]["sm3"]})
        return {"manifest": manifest, "signature": manifest["signature"]}

    @api.post("/v1/sign/verify")
    async def verify(document: Annotated[UploadFile, File()], manifest: Annotated[UploadFile, File()],
                     authorization: Annotated[str | None, Header()] = None) -> dict:
        require(user(authorization), "verify")
        try:
            m = json.loads(await read(manifest))
        except ValueError as exc:
            raise InvalidInput(f"manifest: not JSON ({exc})") from exc
        store = wf.services.keystore
        r = docs.verify(await read(document), m, ca_key=store.public_key(seals.CA_KEY),
                        tsa_key=store.public_key(seals.TSA_KEY))
        return {"valid": r.valid, "reason": r.reason, "signer": r.signer, "signing_time": r.signing_time,
                "timestamp": r.timestamp}

    @api.get("/v1/audit/verify")
    def audit_verify(authorization: Annotated[str | None, Header()] = None) -> dict:
        require(user(authorization), "audit.read")
        problems = audit.verify(wf.db)
        return {"records": audit.count(wf.db), "intact": not problems, "problems": problems}

    @api.get("/v1/ops/metrics")
    def ops_metrics(hours: float = 168.0, authorization: Annotated[str | None, Header()] = None) -> dict:
        require(user(authorization), "ops.read")
        return ops.metrics(wf.db, hours=hours)

    @api.get("/v1/cost/report")
    def cost_report(month: str, authorization: Annotated[str | None, Header()] = None) -> dict:
        require(user(authorization), "cost.read")
        rep = cost.report(wf.db, cost.load_model(), month)
        rep.pop("cases")
        return rep

    @api.get("/healthz")
    def health() -> dict:
        return {"status": "ok"}

    return api
