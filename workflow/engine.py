"""The light workflow engine: case types as data (``workflow/casetypes/*.yaml``), cases and their step results
in SQL, retries with backoff, human review on failure, and resumption of every open case after a crash.

A step's result is written once, when it finishes (one row per case and step), so a killed process re-runs
only the step it was in; finished steps are never repeated. Each result keeps the SM3 of its inputs, its
output (personal data masked) and its evidence.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from workflow import audit, rules
from workflow.blobs import BlobStore
from workflow.client import ModelClient, Transient
from workflow.db import cases, reviews, step_runs
from workflow.errors import InvalidInput, WorkflowError
from workflow.masking import mask_detail
from workflow.police import PoliceUnavailable
from workflow.signing import pii
from workflow.signing.keystore import Keystore
from workflow.steps import EXECUTORS, StepContext, StepResult

log = logging.getLogger(__name__)
CASETYPES = Path(__file__).parent / "casetypes"
CHANNELS = ("counter", "witness", "online")
PERSONAL_FIELDS = ("name", "id_number", "phone", "bank_card")  # SM4-encrypted in the case record
OPEN, REVIEW, COMPLETED, REJECTED, FAILED = "open", "review", "completed", "rejected", "failed"


@dataclass(frozen=True)
class CaseType:
    name: str
    title: str
    channels: tuple[str, ...]
    inputs: tuple[str, ...]
    steps: tuple[dict, ...]

    def steps_for(self, channel: str) -> list[dict]:
        return [s for s in self.steps if channel in s.get("channels", self.channels)]


def load_case_type(name_or_path: str | Path) -> CaseType:
    path = Path(name_or_path)
    if not path.suffix:
        path = CASETYPES / f"{name_or_path}.yaml"
    if not path.is_file():
        raise InvalidInput(f"case type not found: {path}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for s in raw["steps"]:
        if s["kind"] not in EXECUTORS:
            raise InvalidInput(f"{path}: step {s['id']}: unknown kind {s['kind']!r}")
        if s.get("on_fail", "review") not in ("review", "reject"):
            raise InvalidInput(f"{path}: step {s['id']}: on_fail must be review or reject")
    return CaseType(raw["name"], raw.get("title", raw["name"]), tuple(raw.get("channels", CHANNELS)),
                    tuple(raw.get("inputs", ())), tuple(raw["steps"]))


@dataclass
class Services:
    """What steps use: model endpoints, the authority, keys, blobs, and where archives go."""

    models: ModelClient | None
    police: object | None
    keystore: Keystore
    blobs: BlobStore
    archive_root: Path
    organisations: dict[str, str] = field(default_factory=dict)  # branch -> name on the seal
    evidence_record: object = None  # set by the engine

    def organisation(self, branch: str) -> str:
        return self.organisations.get(branch, f"{branch}营业部")


@dataclass
class Retry:
    attempts: int = 4
    base_delay_s: float = 0.5

    def delays(self):
        for n in range(self.attempts - 1):
            yield self.base_delay_s * 2 ** n


class Workflow:
    def __init__(self, db: Engine, services: Services, case_types: dict[str, CaseType] | None = None,
                 retry: Retry | None = None) -> None:
        self.db = db
        self.services = services
        self.services.evidence_record = self.evidence_record
        self.case_types = case_types or {"account_opening": load_case_type("account_opening")}
        self.retry = retry or Retry()

    # -- cases ---------------------------------------------------------------------------------------
    def create_case(self, actor: str, role: str, *, case_type: str, channel: str, branch: str,
                    files: dict[str, bytes | list[bytes] | dict[str, bytes]], fields: dict | None = None) -> str:
        """Store the uploads (encrypted) and the case; personal fields are SM4-encrypted in the record."""
        if case_type not in self.case_types:
            raise InvalidInput(f"unknown case type {case_type!r}; known: {', '.join(self.case_types)}")
        ct = self.case_types[case_type]
        if channel not in ct.channels:
            raise InvalidInput(f"channel {channel!r}: expected one of {', '.join(ct.channels)}")
        missing = [n for n in ct.inputs if n not in files]
        if missing:
            raise InvalidInput(f"missing inputs: {', '.join(missing)}")
        case_id = f"C{time.strftime('%Y%m%d')}-{uuid.uuid4().hex[:10]}"
        inputs, digests = {}, {}
        for name, value in files.items():
            if isinstance(value, bytes):
                digests[name] = self.services.blobs.put(case_id, name, value)["sm3"]
                inputs[name] = name
            elif isinstance(value, list):
                inputs[name] = [f"{name}_{i:03d}" for i in range(len(value))]
                for blob, data in zip(inputs[name], value, strict=True):
                    digests[blob] = self.services.blobs.put(case_id, blob, data)["sm3"]
            else:
                inputs[name] = {k: f"{name}_{k}" for k in value}
                for k, data in value.items():
                    digests[f"{name}_{k}"] = self.services.blobs.put(case_id, f"{name}_{k}", data)["sm3"]
        fields = dict(fields or {})
        secret = {k: pii.encrypt(self.services.keystore, k, str(fields.pop(k))) for k in PERSONAL_FIELDS
                  if fields.get(k)}
        data = {"inputs": inputs, "input_sm3": digests, "kept": secret, "steps_output": {}, **fields}
        now = time.time()
        with self.db.begin() as con:
            con.execute(insert(cases).values(id=case_id, case_type=case_type, channel=channel, branch=branch,
                                             status=OPEN, current_step=None, created_by=actor, created_at=now,
                                             updated_at=now, data=data))
        audit.append(self.db, actor, role, "case.create", case_id=case_id,
                     detail={"case_type": case_type, "channel": channel, "branch": branch,
                             "inputs": {k: v[:16] for k, v in digests.items()}})
        return case_id

    def add_inputs(self, case_id: str, files: dict[str, bytes], *, actor: str, role: str, step: str) -> None:
        """More uploads for a case (``answer_<q>`` go under ``answers``); a step that failed for want of them
        and went to review is not re-run here — a reviewer decides."""
        case = self.case(case_id)
        data = dict(case["data"])
        inputs, digests = dict(data["inputs"]), dict(data["input_sm3"])
        for key, blob in files.items():
            name = f"answers_{key.removeprefix('answer_')}" if key.startswith("answer_") else key
            digests[name] = self.services.blobs.put(case_id, name, blob)["sm3"]
            if key.startswith("answer_"):
                inputs["answers"] = {**inputs.get("answers", {}), key.removeprefix("answer_"): name}
            else:
                inputs[key] = name
        data["inputs"], data["input_sm3"] = inputs, digests
        self._set_case(case_id, data=data)
        audit.append(self.db, actor, role, "case.add_inputs", case_id=case_id,
                     detail={"step": step, "inputs": {k: digests[k][:16] for k in digests if k not in
                                                      case["data"]["input_sm3"]}})

    def case(self, case_id: str) -> dict:
        return load_case(self.db, case_id)

    def step_results(self, case_id: str) -> dict[str, dict]:
        return load_steps(self.db, case_id)

    def _kept(self, case: dict) -> dict:
        return {k: pii.decrypt(self.services.keystore, k, v) for k, v in case["data"].get("kept", {}).items()}

    def _set_case(self, case_id: str, **values) -> None:
        with self.db.begin() as con:
            con.execute(update(cases).where(cases.c.id == case_id).values(**values, updated_at=time.time()))

    # -- running -------------------------------------------------------------------------------------
    def advance(self, case_id: str, actor: str = "workflow-runner") -> str:
        """Run the case's remaining steps in order; stops at a review, a rejection or the end. Returns status."""
        case = self.case(case_id)
        if case["status"] in (COMPLETED, REJECTED, FAILED):
            return case["status"]
        ct = self.case_types[case["case_type"]]
        done = self.step_results(case_id)
        for step in ct.steps_for(case["channel"]):
            prior = done.get(step["id"])
            if prior and prior["status"] == "done":
                continue
            if prior and prior["status"] == "review":
                self._set_case(case_id, status=REVIEW, current_step=step["id"])
                return REVIEW
            self._set_case(case_id, status=OPEN, current_step=step["id"])
            status = self._run_step(self.case(case_id), step, actor)
            if status != "done":
                return self.case(case_id)["status"]
        self._set_case(case_id, status=COMPLETED, current_step=None)
        audit.append(self.db, actor, "system", "case.complete", case_id=case_id)
        return COMPLETED

    def _input_digest(self, case: dict, step: dict) -> str:
        body = {"step": step, "inputs": case["data"].get("input_sm3", {}),
                "before": sorted(case["data"].get("steps_output", {}))}
        return hashlib.new("sha256", json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()

    def _run_step(self, case: dict, step: dict, actor: str) -> str:
        ctx = StepContext(case=case, services=self.services, kept=self._kept(case))
        started, t0 = time.time(), time.perf_counter()
        attempts, error, result = 0, None, None
        delays = self.retry.delays()
        while True:
            attempts += 1
            try:
                result = EXECUTORS[step["kind"]](ctx, step)
                break
            except (Transient, PoliceUnavailable) as exc:
                error = str(exc)
                delay = next(delays, None)
                if delay is None:
                    break
                log.warning("case %s step %s attempt %d failed (%s); retrying in %.1f s", case["id"], step["id"],
                            attempts, exc, delay)
                time.sleep(delay)
            except WorkflowError as exc:
                result = StepResult(output={"error": {"code": exc.code, "message": exc.message}}, passed=False)
                break
        wall_ms = (time.perf_counter() - t0) * 1000
        if result is None:  # still failing after every retry: the case waits for the service, not a person
            self._set_case(case["id"], status=FAILED)
            audit.append(self.db, actor, "system", "step.unavailable", case_id=case["id"],
                         detail={"step": step["id"], "attempts": attempts, "error": error})
            return "failed"
        failures = [] if result.passed is True else (
            ["step returned an error: " + json.dumps(result.output.get("error"), ensure_ascii=False)]
            if result.passed is False else rules.check(step.get("pass", []), result.output))
        passed = not failures
        status = "done" if passed else ("review" if step.get("on_fail", "review") == "review" else "rejected")
        if result.kept:
            data = dict(case["data"])
            data["kept"] = {**data.get("kept", {}), **{k: pii.encrypt(self.services.keystore, k, str(v))
                                                       for k, v in result.kept.items()}}
            self._set_case(case["id"], data=data)
            case = self.case(case["id"])
        data = dict(case["data"])
        data["steps_output"] = {**data.get("steps_output", {}), step["id"]: mask_detail(result.output)}
        row = dict(case_id=case["id"], step=step["id"], status=status, attempts=attempts,
                   input_sm3=self._input_digest(case, step), output=mask_detail(result.output),
                   evidence=mask_detail({**result.evidence, "failures": failures}), passed=int(passed),
                   cpu_ms=round(result.cpu_ms, 3), wall_ms=round(wall_ms, 3), started_at=started,
                   finished_at=time.time(), error=error)
        try:
            with self.db.begin() as con:
                con.execute(insert(step_runs).values(**row))
                con.execute(update(cases).where(cases.c.id == case["id"]).values(data=data, updated_at=time.time()))
                if status == "review":
                    con.execute(insert(reviews).values(case_id=case["id"], step=step["id"], reason="; ".join(failures),
                                                       status="pending", opened_at=time.time()))
        except IntegrityError:  # another runner finished this step first: keep theirs
            return self.step_results(case["id"])[step["id"]]["status"]
        audit.append(self.db, actor, "system", f"step.{status}", case_id=case["id"],
                     detail={"step": step["id"], "attempts": attempts, "failures": failures})
        if status == "review":
            self._set_case(case["id"], status=REVIEW)
        elif status == "rejected":
            self._set_case(case["id"], status=REJECTED, current_step=step["id"])
        return status

    def resume_all(self, actor: str = "workflow-runner") -> dict[str, str]:
        """Advance every open case (after a restart); returns case id -> status."""
        with self.db.connect() as con:
            open_ids = [r.id for r in con.execute(select(cases.c.id).where(cases.c.status == OPEN))]
        return {cid: self.advance(cid, actor) for cid in open_ids}

    def evidence_record(self, case_id: str) -> dict:
        return evidence_record(self.db, case_id)


def load_case(db: Engine, case_id: str) -> dict:
    with db.connect() as con:
        row = con.execute(select(cases).where(cases.c.id == case_id)).first()
    if row is None:
        raise InvalidInput(f"no case {case_id!r}", code="unknown_case")
    return dict(row._mapping)


def load_steps(db: Engine, case_id: str) -> dict[str, dict]:
    with db.connect() as con:
        rows = con.execute(select(step_runs).where(step_runs.c.case_id == case_id).order_by(step_runs.c.id))
        return {r.step: dict(r._mapping) for r in rows}


def evidence_record(db: Engine, case_id: str) -> dict:
    """The case as a reviewer reads it: inputs by digest, each step's outcome and evidence (masked)."""
    case = load_case(db, case_id)
    return {"case_id": case_id, "case_type": case["case_type"], "channel": case["channel"],
            "branch": case["branch"], "created_by": case["created_by"], "status": case["status"],
            "input_sm3": case["data"]["input_sm3"],
            "steps": {s: {k: r[k] for k in ("status", "passed", "attempts", "input_sm3", "evidence", "cpu_ms")}
                      for s, r in load_steps(db, case_id).items()},
            "audit": audit.records(db, case_id)}
