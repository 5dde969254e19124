"""Risk evidence of one registered model version: what ``veriserve evaluate`` measures, ``veriserve report``
renders and the promotion gate reads (seed clause 7.3).

Evidence is a JSON document logged to its own MLflow run (``risk/evidence.json`` with plots under
``risk/plots/``); the model version's tag ``veriserve.evidence_run`` points at the latest one.
Fields: ``registered``, ``version``, ``card``, ``dataset`` {name, provenance}, ``operating_point``,
``metrics`` {name: value}, ``fairness`` {attribute: {table, gaps}}, ``group_source``, ``explanations``
{method, importance, notes}, ``monitoring_reference`` {score, scores, pass_rate}, ``limitations``, ``plots``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

from evaluation.fairness import gap
from models.base import ModelCard
from models.errors import InvalidInput, ModelNotFound

SCHEMA = 1
TAG_EVIDENCE = "veriserve.evidence_run"
TAG_REPORT = "veriserve.report_run"
EVIDENCE_FILE = "evidence.json"
RISK_DIR = "risk"


def new_evidence(registered: str, version: str, card: ModelCard, *, dataset: str, provenance: str,
                 group_source: str = "") -> dict:
    return {
        "schema": SCHEMA, "registered": registered, "version": str(version), "card": card.model_dump(mode="json"),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "dataset": {"name": dataset, "provenance": provenance},
        "operating_point": {}, "metrics": {}, "fairness": {}, "group_source": group_source,
        "explanations": {}, "monitoring_reference": None, "limitations": list(card.limitations), "plots": [],
    }


def add_fairness(evidence: dict, attribute: str, table: dict, metrics: tuple[str, ...]) -> None:
    """A fairness table for one group attribute, with the gap of each metric between its groups."""
    gaps = {m: g for m in metrics if (g := gap(table, m)) is not None}
    evidence["fairness"][attribute] = {"table": table, "gaps": gaps}


def resolve(client, ref: str):
    """``NAME``, ``NAME@ALIAS`` or ``NAME/VERSION`` -> the registered version (default alias champion)."""
    from serving import store

    if "@" in ref:
        name, alias = ref.split("@", 1)
        return store.get_by_alias(client, name, alias)
    if "/" in ref:
        name, version = ref.split("/", 1)
        for info in store.list_versions(client, name):
            if info.version == version:
                return info
        raise ModelNotFound(f"{name} has no version {version}")
    return store.get_by_alias(client, ref)


def log_evidence(client, evidence: dict, plots: dict[str, Path]) -> str:
    """Log the evidence and its plots to a new MLflow run and point the model version at it."""
    import mlflow

    evidence["plots"] = sorted(plots)
    name, version = evidence["registered"], evidence["version"]
    numbers = {f"metric.{k}": float(v) for k, v in evidence["metrics"].items() if isinstance(v, (int, float))}
    with mlflow.start_run(run_name=f"evidence {name} v{version}") as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tags({"veriserve.registered": name, "veriserve.version": version,
                         "veriserve.kind": "risk-evidence"})
        mlflow.log_metrics(numbers)
        (Path(tmp) / "plots").mkdir()
        for key, path in plots.items():
            shutil.copyfile(path, Path(tmp) / "plots" / f"{key}.png")
        mlflow.log_artifacts(str(Path(tmp) / "plots"), f"{RISK_DIR}/plots")
        mlflow.log_dict(evidence, f"{RISK_DIR}/{EVIDENCE_FILE}")
    client.set_model_version_tag(name, version, TAG_EVIDENCE, run.info.run_id)
    return run.info.run_id


def load_evidence(client, info, into: Path | None = None) -> tuple[dict, str, Path]:
    """(evidence, run id, local folder holding ``evidence.json`` and ``plots/``) of a registered version."""
    import mlflow

    run_id = info.tags.get(TAG_EVIDENCE)
    if not run_id:
        raise InvalidInput(f"{info.registered} v{info.version} has no risk evidence: run "
                           f"'veriserve evaluate {info.registered} --version {info.version}' first")
    into = Path(into or tempfile.mkdtemp(prefix="veriserve-risk-"))
    local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=RISK_DIR, dst_path=str(into)))
    evidence = json.loads((local / EVIDENCE_FILE).read_text(encoding="utf-8"))
    return evidence, run_id, local
