"""Train the passive texture liveness model (``veriserve train liveness``).

Seeded end to end. Subjects are split, never images, so no person is in both train and test. The
decision threshold is chosen on out-of-fold training scores at APCER 5 % (ISO/IEC 30107-3), then the
held-out subjects are scored at that threshold. Weights + card go to a directory; MLflow gets the
params, metrics, DET curve, feature importances and the card; the version is registered.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from evaluation import pad_metrics as pad
from models.base import ModelCard, Threshold, describe_weights
from models.errors import InvalidInput, VeriserveError
from models.imageio import decode_image
from models.liveness import features
from models.liveness.passive import WEIGHTS_FILE, TextureLiveness
from training.liveness.datasets import Sample, load_dataset

TARGET_APCER = 0.05
SYNTHETIC_NOTE = ("trained on SYNTHETIC presentation attacks (print, screen replay, cut-out) simulated from "
                  "a handful of real photos that ship in PyPI packages; it has never seen a real attack and "
                  "must be retrained on the operator's real bona fide and attack data before production")


@dataclass
class TrainResult:
    out_dir: Path
    card: ModelCard
    params: dict
    test_report: dict
    cv_report: dict
    skipped: list[str]
    test_subjects: list[str] = field(default_factory=list)
    test_scores: dict[str, np.ndarray] = field(default_factory=dict)
    importances: dict[str, float] = field(default_factory=dict)
    curve: list[float] = field(default_factory=list)  # training loss per epoch (CNN)


def read_image(sample: Sample) -> np.ndarray:
    if sample.video:
        from models.video import sample_frames

        frames = sample_frames(sample.path.read_bytes(), sample_fps=2.0, max_frames=20)
        return frames[len(frames) // 2][2]
    return decode_image(sample.path.read_bytes(), field=str(sample.path))


def face_crops(samples: list[Sample], progress: Callable[[int, int], None] | None = None,
               centre_fallback: bool = False) -> tuple[list[np.ndarray], list[Sample], list[str]]:
    """The 160-px face crop of every sample whose face is found (as at inference); the others are listed
    as skipped. ``centre_fallback`` (synthetic data, whose face is centred at a known scale) crops the
    centre when the detector misses."""
    from models.liveness.crops import face_crop
    from training.liveness.synthetic import CROP_SCALE as SUBJECT_SCALE

    model = TextureLiveness(multiple_faces="largest")
    from models.face.dlib_backend import HogDetector

    model.detector = HogDetector(min_margin=0.0)
    crops, kept, skipped = [], [], []
    for n, s in enumerate(samples):
        try:
            image = read_image(s)
            try:
                crop, _ = model.crop(image, str(s.path))
            except VeriserveError:
                if not centre_fallback:
                    raise
                h, w = image.shape[:2]
                half = min(h, w) / SUBJECT_SCALE / 2  # the face box the synthetic crop was made around
                crop = face_crop(image, (w / 2 - half, h / 2 - half, w / 2 + half, h / 2 + half))
            crops.append(crop)
            kept.append(s)
        except (VeriserveError, OSError):
            skipped.append(str(s.path))
        if progress:
            progress(n + 1, len(samples))
    if not crops:
        raise InvalidInput("no face found in any training image")
    return crops, kept, skipped


def featurize(samples: list[Sample], progress: Callable[[int, int], None] | None = None,
              centre_fallback: bool = False):
    """Texture feature rows of :func:`face_crops`."""
    crops, kept, skipped = face_crops(samples, progress, centre_fallback)
    return np.stack([features.extract(c) for c in crops]), kept, skipped


def labels(kept: list[Sample]) -> tuple[np.ndarray, list[str], list[str]]:
    """(is-live array, attack type per sample, subject per sample) of the samples that were kept."""
    return np.array([s.live for s in kept]), [s.attack for s in kept], [s.subject for s in kept]


def split_subjects(subjects: list[str], test_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of test samples: a seeded ``test_fraction`` of subjects (at least one)."""
    unique = sorted(set(subjects))
    if len(unique) < 3:
        raise InvalidInput(f"need at least 3 subjects to split train/test, found {len(unique)}")
    rng = np.random.default_rng(seed)
    n_test = max(1, round(test_fraction * len(unique)))
    test = set(rng.choice(unique, size=n_test, replace=False).tolist())
    return np.array([s in test for s in subjects])


def attacks_of(scores: np.ndarray, kinds: list[str]) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {}
    for sc, k in zip(scores, kinds, strict=True):
        if k != "bona_fide":
            out.setdefault(k, []).append(float(sc))
    return {k: np.asarray(v) for k, v in out.items()}


def train_texture(dataset: str | Path, out_dir: str | Path, *, seed: int = 0, n_estimators: int = 150,
                  test_fraction: float = 0.25, synthetic: bool = False,
                  progress: Callable[[str, int, int], None] | None = None) -> TrainResult:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import GroupKFold, cross_val_predict

    layout, samples = load_dataset(dataset)
    x, kept, skipped = featurize(samples, (lambda n, t: progress("features", n, t)) if progress else None,
                                 centre_fallback=synthetic)
    y, kinds, subjects = labels(kept)
    test = split_subjects(subjects, test_fraction, seed)
    train = ~test
    if len(set(y[train])) < 2 or len(set(y[test])) < 2:
        raise InvalidInput("train and test splits each need bona fide and attack samples")
    params = {"n_estimators": n_estimators, "max_depth": 3, "learning_rate": 0.1, "subsample": 0.9,
              "random_state": seed}
    clf = GradientBoostingClassifier(**params)
    groups = np.array(subjects)[train]
    folds = min(5, len(set(groups)))
    if progress:
        progress("cross-validation", 0, 1)
    oof = cross_val_predict(clf, x[train], y[train], groups=groups, cv=GroupKFold(folds), method="predict_proba")[:, 1]
    train_kinds = [k for k, t in zip(kinds, train, strict=True) if t]
    cv_attacks = attacks_of(oof, train_kinds)
    threshold = pad.threshold_at_apcer(cv_attacks, TARGET_APCER)
    cv_report = pad.report(oof[y[train]], cv_attacks, threshold)
    if progress:
        progress("fit", 0, 1)
    clf.fit(x[train], y[train])
    test_scores = clf.predict_proba(x[test])[:, 1]
    test_kinds = [k for k, t in zip(kinds, test, strict=True) if t]
    test_attacks = attacks_of(test_scores, test_kinds)
    test_report = pad.report(test_scores[y[test]], test_attacks, threshold)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / WEIGHTS_FILE, "wb") as fh:
        pickle.dump(clf, fh, protocol=5)
    test_subjects = sorted({str(subj) for subj, t in zip(subjects, test, strict=True) if t})
    digest = hashlib.sha256("\n".join(sorted(str(s.path.relative_to(Path(dataset))) for s in kept)).encode())
    provenance = (f"{layout} dataset {Path(dataset).name}: {int(y.sum())} bona fide / {int((~y).sum())} attack "
                  f"images from {len(set(subjects))} subjects (file-list sha256 {digest.hexdigest()[:16]}); "
                  f"held-out subjects: {', '.join(test_subjects)}")
    if synthetic:
        provenance = SYNTHETIC_NOTE + ". " + provenance
    card = ModelCard(
        name=TextureLiveness.name, family="liveness", task="liveness-passive", version=f"texture-gbm-seed{seed}",
        backend="sklearn", licence="Veriserve (trained by this installation); no third-party weights",
        commercial_use=True, data_provenance=provenance,
        intended_use="passive presentation-attack screening of a cooperative selfie, alongside action liveness",
        preprocessing={"crop": "HOG face box x1.6, square, 160 px", "features": f"{len(features.FEATURE_NAMES)} "
                       "named texture features (colour LBP, frequency, specular, sharpness, colour diversity)"},
        thresholds={"live": Threshold(value=round(threshold, 6),
                                      operating_point={"apcer": round(cv_report["apcer_max"], 6),
                                                       "bpcer": round(cv_report["bpcer"], 6)},
                                      source=f"out-of-fold training scores at APCER {TARGET_APCER:.0%} (30107-3)")},
        metrics={f"test.{k}": float(v) for k, v in test_report.items() if isinstance(v, (int, float))},
        limitations=[SYNTHETIC_NOTE] if synthetic else ["evaluate per attack type on the operator's data"],
        weights=describe_weights(out, {WEIGHTS_FILE: "Veriserve-trained"}),
    )
    card.write(out)
    importances = dict(zip(features.FEATURE_NAMES, map(float, clf.feature_importances_), strict=True))
    return TrainResult(out_dir=out, card=card, params={**params, "layout": layout, "samples": len(kept),
                                                        "skipped": len(skipped), "test_fraction": test_fraction},
                       test_report=test_report, cv_report=cv_report, skipped=skipped, test_subjects=test_subjects,
                       test_scores={"bona_fide": test_scores[y[test]], **test_attacks}, importances=importances)


def plots(result: TrainResult, out_dir: Path) -> list[Path]:
    """DET curve of the held-out subjects and the top feature importances."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    attacks = {k: v for k, v in result.test_scores.items() if k != "bona_fide"}
    _, ap, bp = pad.det_curve(result.test_scores["bona_fide"], attacks)
    floor = 1e-3
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog(np.maximum(ap, floor), np.maximum(bp, floor), lw=2)
    ax.set(xlabel="APCER (worst attack type)", ylabel="BPCER", title="DET — held-out subjects")
    ax.grid(alpha=0.3, which="both")
    det = out_dir / "det.png"
    fig.tight_layout()
    fig.savefig(det, dpi=110)
    plt.close(fig)
    if not result.importances:
        return [det]
    top = sorted(result.importances.items(), key=lambda kv: -kv[1])[:15]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.barh([k for k, _ in top][::-1], [v for _, v in top][::-1])
    ax.set(xlabel="importance (impurity)", title="texture features that matter most")
    imp = out_dir / "feature_importance.png"
    fig.tight_layout()
    fig.savefig(imp, dpi=110)
    plt.close(fig)
    return [det, imp]


def log_and_register(client, result: TrainResult, *, registered: str = "liveness-passive",
                     reason: str = "trained", set_champion: bool = False):
    """MLflow run for the training, then a registered version carrying the card."""
    import mlflow

    from training.bootstrap import register

    with mlflow.start_run(run_name=f"train {result.card.name}") as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params(result.params)
        flat = {f"test.{k}": v for k, v in result.test_report.items() if isinstance(v, (int, float))}
        flat |= {f"test.apcer.{k}": v for k, v in result.test_report["apcer"].items()}
        flat |= {f"cv.{k}": v for k, v in result.cv_report.items() if isinstance(v, (int, float))}
        mlflow.log_metrics(flat)
        for epoch, loss in enumerate(result.curve):
            mlflow.log_metric("train.loss", loss, step=epoch)
        for p in plots(result, Path(tmp)):
            mlflow.log_artifact(str(p), "plots")
        mlflow.log_dict({"test": result.test_report, "cv": result.cv_report, "skipped": result.skipped},
                        "report.json")
        mlflow.log_dict(result.card.model_dump(mode="json"), "card.json")
        run_id = run.info.run_id
    reg = register(client, registered, result.card.name, {}, result.out_dir, card=result.card,
                   reason=reason, set_champion=set_champion)
    return run_id, reg


def synthetic_dataset(out_dir: str | Path, *, per_face: int = 24, seed: int = 0,
                      progress: Callable[[int, int], None] | None = None) -> Path:
    """Generate the synthetic attack set from the photos that ship in installed packages."""
    from evaluation.pairs import demo_people
    from models.face.dlib_backend import HogDetector
    from training.liveness.synthetic import generate, subject_crop

    detector = HogDetector()
    faces = {}
    for name, photo in demo_people().items():
        boxes = detector.boxes(photo)
        if boxes:
            faces[name] = subject_crop(photo, max(boxes, key=lambda b: b[0][2] - b[0][0])[0])
    return generate(faces, out_dir, per_face=per_face, seed=seed, progress=progress)


def save_preview(dataset: Path, out: Path) -> Path:
    """One row per class, for the eye: live, then each attack type."""
    rows = []
    for folder in [dataset / "live", *sorted((dataset / "spoof").iterdir())]:
        first = sorted(folder.glob("*.jpg"))[:4]
        rows.append(np.concatenate([np.asarray(Image.open(p).convert("RGB").resize((128, 128))) for p in first], 1))
    Image.fromarray(np.concatenate(rows, 0)).save(out)
    return out
