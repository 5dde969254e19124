"""Face-match evaluation and threshold calibration (seed 8.4c, DESIGN.md §6).

Embeds every image of a :class:`~evaluation.pairs.PairSet` once, scores every pair, and reports
FMR/FNMR at the deployed threshold, EER, TAR@FMR and the thresholds that reach FMR 1e-2 / 1e-3 / 1e-4
— each flagged unsupported when the set has too few impostor pairs to claim it (rule of three).
Results go to MLflow with ROC/DET/histogram plots and the dataset digest.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluation import metrics
from evaluation.pairs import PairSet
from models.base import ModelCard, Threshold
from models.errors import InvalidInput, VeriserveError

TARGET_FMRS = (1e-2, 1e-3, 1e-4)


@dataclass
class MatchEvaluation:
    model: str
    model_version: str
    dataset: str
    dataset_digest: str
    deployed_threshold: float
    genuine: np.ndarray
    impostor: np.ndarray
    failed_images: list[str]
    summary: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)
    pair_scores: list[tuple[str, str, float, bool]] = field(default_factory=list)  # (key a, key b, score, genuine)


def evaluate(model, pairs: PairSet, *, targets=TARGET_FMRS,
             progress: Callable[[int, int], None] | None = None) -> MatchEvaluation:
    """Score every pair with ``model`` (a loaded face-match model). Images whose face cannot be
    found once count as failures to acquire and their pairs are left out (and reported)."""
    embeddings: dict[str, np.ndarray] = {}
    failed: list[str] = []
    keys = sorted(pairs.images)
    for n, key in enumerate(keys):
        try:
            embeddings[key] = model.embedding(pairs.images[key], field=key, policy="largest")
        except VeriserveError:
            failed.append(key)
        if progress:
            progress(n + 1, len(keys))
    genuine, impostor, scored = [], [], []
    for a, b, same in pairs.pairs:
        if a in embeddings and b in embeddings:
            score = float(embeddings[a] @ embeddings[b])
            (genuine if same else impostor).append(score)
            scored.append((a, b, score, bool(same)))
    if not genuine or not impostor:
        raise InvalidInput(f"{pairs.name}: need genuine and impostor pairs with detectable faces "
                           f"(got {len(genuine)} genuine, {len(impostor)} impostor)")
    g, i = np.array(genuine), np.array(impostor)
    thr = model.threshold.value
    rate, eer_t = metrics.eer(g, i)
    summary = {
        "genuine_pairs": len(g), "impostor_pairs": len(i), "images": len(keys),
        "failure_to_acquire_rate": round(len(failed) / max(1, len(keys)), 4),
        "threshold_deployed": thr, "fmr_at_deployed": metrics.fmr(i, thr), "fnmr_at_deployed": metrics.fnmr(g, thr),
        "eer": round(rate, 6), "eer_threshold": round(eer_t, 6),
        "genuine_mean": round(float(g.mean()), 4), "impostor_mean": round(float(i.mean()), 4),
    }
    calibration = {}
    for target in targets:
        needed = metrics.min_impostors_for(target)
        t = metrics.threshold_at_fmr(i, target)
        calibration[f"{target:g}"] = {
            "target_fmr": target, "supported": len(i) >= needed, "impostors_needed": needed,
            "threshold": round(t, 6), "fnmr": round(metrics.fnmr(g, t), 6),
            "tar": round(1 - metrics.fnmr(g, t), 6),
            "note": "" if len(i) >= needed
            else f"only {len(i)} impostor pairs; {needed} needed to claim FMR {target:g}",
        }
    return MatchEvaluation(model=model.card.name, model_version=model.card.version, dataset=pairs.name,
                           dataset_digest=pairs.digest(), deployed_threshold=thr, genuine=g, impostor=i,
                           failed_images=failed, summary=summary, calibration=calibration,
                           pair_scores=scored)


def plot(result: MatchEvaluation, out_dir: Path) -> dict[str, Path]:
    """ROC, DET and score-histogram PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    c = metrics.error_curve(result.genuine, result.impostor)
    paths = {}
    fig, ax = plt.subplots(figsize=(5, 4))
    floor = 0.5 / len(result.impostor)
    ax.semilogx(np.maximum(c["fmr"], floor), c["tar"], lw=2)
    for cal in result.calibration.values():
        if cal["supported"]:
            ax.axvline(cal["target_fmr"], ls=":", c="grey")
    ax.set(xlabel="false match rate (FMR)", ylabel="true accept rate (TAR)", title=f"ROC — {result.model}",
           ylim=(0, 1.01))
    ax.grid(alpha=0.3)
    paths["roc"] = out_dir / "roc.png"
    fig.tight_layout()
    fig.savefig(paths["roc"], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 4))
    fmr_, fnmr_ = metrics.det_points(result.genuine, result.impostor)
    floor_g = 0.5 / len(result.genuine)
    ax.loglog(np.maximum(fmr_, floor), np.maximum(fnmr_, floor_g), lw=2)
    ax.set(xlabel="FMR", ylabel="FNMR", title="DET")
    ax.grid(alpha=0.3, which="both")
    paths["det"] = out_dir / "det.png"
    fig.tight_layout()
    fig.savefig(paths["det"], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(min(result.impostor.min(), result.genuine.min()), 1.0, 50)
    ax.hist(result.impostor, bins=bins, alpha=0.6, density=True, label=f"impostor (n={len(result.impostor)})")
    ax.hist(result.genuine, bins=bins, alpha=0.6, density=True, label=f"genuine (n={len(result.genuine)})")
    ax.axvline(result.deployed_threshold, c="k", ls="--", label=f"deployed {result.deployed_threshold:.3f}")
    ax.set(xlabel="cosine similarity", ylabel="density", title="score distributions")
    ax.legend(fontsize=8)
    paths["hist"] = out_dir / "scores.png"
    fig.tight_layout()
    fig.savefig(paths["hist"], dpi=110)
    plt.close(fig)
    return paths


def log_to_mlflow(result: MatchEvaluation) -> str:
    """One MLflow run: params (model, dataset, digest), metrics, plots, raw scores and the report JSON."""
    import mlflow

    with mlflow.start_run(run_name=f"evaluate {result.model}") as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({"model": result.model, "model_version": result.model_version,
                           "dataset": result.dataset, "dataset_digest": result.dataset_digest,
                           "threshold_deployed": result.deployed_threshold})
        mlflow.set_tags({"veriserve.task": "face-match-evaluation", "veriserve.dataset_digest": result.dataset_digest})
        mlflow.log_metrics({k: float(v) for k, v in result.summary.items() if isinstance(v, (int, float))})
        for key, cal in result.calibration.items():
            mlflow.log_metrics({f"threshold_at_fmr_{key}": cal["threshold"], f"tar_at_fmr_{key}": cal["tar"]})
        for path in plot(result, Path(tmp)).values():
            mlflow.log_artifact(str(path), "plots")
        np.savetxt(Path(tmp) / "genuine.csv", result.genuine, fmt="%.6f")
        np.savetxt(Path(tmp) / "impostor.csv", result.impostor, fmt="%.6f")
        mlflow.log_artifact(str(Path(tmp) / "genuine.csv"), "scores")
        mlflow.log_artifact(str(Path(tmp) / "impostor.csv"), "scores")
        mlflow.log_dict(report(result), "report.json")
        return run.info.run_id


def report(result: MatchEvaluation) -> dict:
    return {"model": result.model, "model_version": result.model_version, "dataset": result.dataset,
            "dataset_digest": result.dataset_digest, "summary": result.summary,
            "calibration": result.calibration, "failed_images": result.failed_images}


def calibrated_card(card: ModelCard, result: MatchEvaluation, target: float, run_id: str = "") -> ModelCard:
    """A copy of ``card`` whose match threshold is the one calibrated at FMR ``target``, with every
    supported operating point kept as ``match@fmr=<target>`` and the evaluation metrics attached."""
    key = f"{target:g}"
    cal = result.calibration.get(key)
    if cal is None:
        raise InvalidInput(f"no calibration at FMR {target:g}; evaluated: {', '.join(result.calibration)}")
    if not cal["supported"]:
        raise InvalidInput(f"cannot calibrate at FMR {target:g}: {cal['note']}")
    source = f"calibrated on {result.dataset} (digest {result.dataset_digest[:12]}) run {run_id}".strip()
    thresholds = dict(card.thresholds)
    thresholds["match"] = Threshold(value=cal["threshold"], operating_point={"fmr": target, "fnmr": cal["fnmr"]},
                                    source=source)
    for k, c in result.calibration.items():
        if c["supported"]:
            thresholds[f"match@fmr={k}"] = Threshold(value=c["threshold"],
                                                     operating_point={"fmr": c["target_fmr"], "fnmr": c["fnmr"]},
                                                     source=source)
    metrics_ = {**card.metrics, **{f"eval.{k}": float(v) for k, v in result.summary.items()
                                   if isinstance(v, (int, float))}}
    return card.model_copy(update={"thresholds": thresholds, "metrics": metrics_,
                                   "config": {**card.config, "threshold": cal["threshold"]}})


def to_json(result: MatchEvaluation) -> str:
    return json.dumps(report(result), indent=2)
