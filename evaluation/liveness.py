"""Passive liveness evaluation per ISO/IEC 30107-3 on a dataset folder, with per-group breakdown.

A presentation whose face cannot be found is a failure to acquire (reported); it is scored 0 (rejected),
which counts against BPCER for bona fide samples and for the system on attacks.
Group labels (e.g. age band, skin tone, device) come from a CSV with columns ``subject,group``.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from evaluation import pad_metrics as pad
from models.errors import InvalidInput, VeriserveError
from models.liveness.types import PassiveInput
from training.liveness.datasets import BONA_FIDE, load_dataset
from training.liveness.train import read_image


def read_groups(path: str | Path) -> dict[str, str]:
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"groups file not found: {path}")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"subject", "group"} <= set(rows[0]):
        raise InvalidInput(f"{path}: expected a CSV with columns subject,group")
    return {r["subject"]: r["group"] for r in rows}


def evaluate(model, dataset: str | Path, *, groups: dict[str, str] | None = None,
             progress: Callable[[int, int], None] | None = None) -> dict:
    """Scores every sample with ``model`` at its own threshold; returns the 30107-3 report, per-group
    figures and the raw scores."""
    layout, samples = load_dataset(dataset)
    scores, kinds, subjects, fta = [], [], [], 0
    for n, s in enumerate(samples):
        try:
            scores.append(model.predict(PassiveInput(images=[read_image(s)])).score)
        except VeriserveError:
            scores.append(0.0)
            fta += 1
        kinds.append(s.attack)
        subjects.append(s.subject)
        if progress:
            progress(n + 1, len(samples))
    sc = np.asarray(scores)
    live = np.array([k == BONA_FIDE for k in kinds])
    attacks = {k: sc[[x == k for x in kinds]] for k in sorted(set(kinds) - {BONA_FIDE})}
    thr = model.threshold.value
    out = {"model": model.card.name, "model_version": model.card.version, "dataset": str(dataset),
           "layout": layout, "threshold": thr, "failure_to_acquire": fta,
           "report": pad.report(sc[live], attacks, thr), "groups": {},
           "scores": {"bona_fide": sc[live].tolist(), **{k: v.tolist() for k, v in attacks.items()}},
           "samples": [{"subject": str(s), "attack": k, "score": round(float(v), 6), "path": str(p.path)}
                       for s, k, v, p in zip(subjects, kinds, sc, samples, strict=True)]}
    if groups:
        labels = np.array([groups.get(s, "unlabelled") for s in subjects])
        for g in sorted(set(labels)):
            m = labels == g
            entry = {"bona_fide": int((m & live).sum()), "attacks": int((m & ~live).sum())}
            if (m & live).any():
                entry["bpcer"] = pad.bpcer(sc[m & live], thr)
            if (m & ~live).any():
                entry["apcer_max"] = max(pad.apcer(sc[m & (np.array(kinds) == k)], thr)
                                         for k in attacks if (m & (np.array(kinds) == k)).any())
            out["groups"][g] = entry
    return out


def log_to_mlflow(result: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow

    r = result["report"]
    with mlflow.start_run(run_name=f"evaluate {result['model']}") as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({"model": result["model"], "model_version": result["model_version"],
                           "dataset": result["dataset"], "threshold": result["threshold"]})
        mlflow.log_metrics({k: float(v) for k, v in r.items() if isinstance(v, (int, float))})
        mlflow.log_metrics({f"apcer.{k}": v for k, v in r["apcer"].items()})
        for g, e in result["groups"].items():
            mlflow.log_metrics({f"group.{g}.{k}": float(v) for k, v in e.items()})
        attacks = {k: np.asarray(v) for k, v in result["scores"].items() if k != "bona_fide"}
        _, ap, bp = pad.det_curve(np.asarray(result["scores"]["bona_fide"]), attacks)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.loglog(np.maximum(ap, 1e-3), np.maximum(bp, 1e-3), lw=2)
        ax.set(xlabel="APCER (worst attack type)", ylabel="BPCER", title=f"DET — {result['model']}")
        ax.grid(alpha=0.3, which="both")
        fig.tight_layout()
        fig.savefig(Path(tmp) / "det.png", dpi=110)
        plt.close(fig)
        mlflow.log_artifact(str(Path(tmp) / "det.png"), "plots")
        mlflow.log_dict(result, "evaluation.json")
        return run.info.run_id
