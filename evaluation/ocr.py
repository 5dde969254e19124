"""OCR evaluation on rendered documents: field accuracy and CER per document type, per field and per
group (minority names, rare characters, long addresses), plus how often a wrong value slipped through
its checks (``silent_error_rate``: the figure that matters to operations), logged to MLflow.

A field is *correct* when its value equals the ground truth exactly. CER is the character error rate of
the value against the truth. Captures vary perspective, blur, noise, JPEG quality, glare and rotation.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from evaluation.documents.render import RENDERERS, render
from models.ocr.checks import SENSITIVE_FIELDS, mask
from models.ocr.types import DOC_TYPES, OcrInput
from models.text import cer

NAME_FIELDS = {"name", "legal_representative", "owner"}
ADDRESS_FIELDS = {"address"}


def capture_plan(seed: int, i: int) -> dict:
    """The capture conditions of the i-th sample: mostly upright, some rotated, some glare and blur."""
    rng = random.Random(f"capture:{seed}:{i}")
    return {"perspective": rng.uniform(0.0, 0.06), "blur": rng.choice([0.0, 0.0, 0.6, 1.0, 1.5]),
            "noise": rng.choice([0.0, 3.0, 6.0]), "jpeg": rng.choice([60, 80, 95]),
            "glare": rng.random() < 0.15, "rotate": rng.choice([0, 0, 0, 0, 90, 180, 270])}


def field_groups(field: str, groups: list[str]) -> list[str]:
    """Which evaluation groups a field's error counts towards."""
    out = ["all"]
    if field in NAME_FIELDS:
        out += [g for g in groups if g in ("minority_name", "rare_char")] or ["common_name"]
    if field in ADDRESS_FIELDS:
        out.append("long_address" if "long_address" in groups else "short_address")
    return out


def evaluate(model, *, per_type: int = 10, doc_types: tuple[str, ...] = DOC_TYPES, seed: int = 0,
             progress: Callable[[int, int], None] | None = None) -> dict:
    """Render ``per_type`` documents of each type, read them with ``model`` and score every field."""
    rows = score_fields(model, per_type=per_type, doc_types=doc_types, seed=seed, progress=progress)
    return summarise(rows, model=model.card.name, version=model.card.version, per_type=per_type, seed=seed)


def score_fields(model, *, per_type: int, doc_types: tuple[str, ...], seed: int,
                 progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """One row per field of every rendered document: truth, value read, correct, valid, CER, groups."""
    rows = []
    total = per_type * len(doc_types)
    n = 0
    for doc_type in doc_types:
        for i in range(per_type):
            sample = render(doc_type, seed * 100_000 + i, **capture_plan(seed, i))
            out = model.predict(OcrInput(image=sample.image, doc_type=doc_type))
            for field, truth in sample.truth.items():
                if field.startswith("mrz_"):
                    continue
                got = out.fields.get(field)
                value = got.value if got else ""
                rows.append({"doc_type": doc_type, "sample": i, "field": field, "groups": sample.groups,
                             "correct": value == truth, "valid": bool(got and got.valid),
                             "cer": cer(truth, value), "truth": truth, "value": value,
                             "capture": sample.capture, "warnings": len(out.checks.warnings)})
            n += 1
            if progress:
                progress(n, total)
    return rows


def _stats(rows: list[dict]) -> dict:
    correct = np.array([r["correct"] for r in rows])
    valid = np.array([r["valid"] for r in rows])
    return {"n": len(rows), "field_accuracy": round(float(correct.mean()), 4),
            "cer": round(float(np.mean([r["cer"] for r in rows])), 4),
            "flagged_rate": round(float((~valid).mean()), 4),
            "silent_error_rate": round(float((~correct & valid).mean()), 4)}


def summarise(rows: list[dict], **meta) -> dict:
    by_type, by_field, by_group = defaultdict(list), defaultdict(list), defaultdict(list)
    for r in rows:
        by_type[r["doc_type"]].append(r)
        by_field[f"{r['doc_type']}.{r['field']}"].append(r)
        for g in field_groups(r["field"], r["groups"]):
            by_group[g].append(r)
    errors = [{"doc_type": r["doc_type"], "sample": r["sample"], "field": r["field"],
               "truth": mask(r["truth"]) if r["field"] in SENSITIVE_FIELDS else r["truth"],
               "value": mask(r["value"]) if r["field"] in SENSITIVE_FIELDS else r["value"],
               "valid": r["valid"], "capture": r["capture"]} for r in rows if not r["correct"]]
    return {**meta, "overall": _stats(rows), "by_type": {k: _stats(v) for k, v in sorted(by_type.items())},
            "by_field": {k: _stats(v) for k, v in sorted(by_field.items())},
            "by_group": {k: _stats(v) for k, v in sorted(by_group.items()) if k != "all"},
            "errors": errors}


def plot(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 1.4]})
    types = list(result["by_type"])
    acc = [result["by_type"][t]["field_accuracy"] for t in types]
    silent = [result["by_type"][t]["silent_error_rate"] for t in types]
    x = np.arange(len(types))
    a.bar(x - 0.2, acc, 0.4, label="field accuracy", color="#4c72b0")
    a.bar(x + 0.2, silent, 0.4, label="wrong but passed checks", color="#dd8452")
    a.set_xticks(x, types, rotation=35, ha="right")
    a.set_ylim(0, 1.05)
    a.set_title(f"{result['model']}: {result['per_type']} rendered documents per type")
    a.legend(loc="lower left")
    groups = list(result["by_group"])
    b.barh(groups, [result["by_group"][g]["cer"] for g in groups], color="#55a868")
    b.set_xlabel("character error rate")
    b.set_title("CER by group (names, addresses)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def log_to_mlflow(result: dict) -> str:
    import mlflow

    with mlflow.start_run(run_name=f"evaluate {result['model']}") as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({"model": result["model"], "model_version": result["version"],
                           "per_type": result["per_type"], "seed": result["seed"], "data": "rendered documents"})
        mlflow.log_metrics({k: v for k, v in result["overall"].items() if k != "n"})
        for scope in ("by_type", "by_group", "by_field"):
            for key, stats in result[scope].items():
                mlflow.log_metrics({f"{scope[3:]}.{key}.{m}": v for m, v in stats.items()
                                    if m in ("field_accuracy", "cer", "silent_error_rate")})
        mlflow.log_artifact(str(plot(result, Path(tmp) / "ocr_accuracy.png")), "plots")
        mlflow.log_dict(result, "evaluation.json")  # identifiers in the error list are masked
        return run.info.run_id


assert set(RENDERERS) == set(DOC_TYPES)
