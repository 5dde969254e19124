"""Risk evidence per registered model (``veriserve evaluate NAME``): accuracy at the deployed threshold,
fairness by group with intervals, explanations and the reference distribution that monitoring compares
against. Each function returns ``(evidence, plots)`` for :func:`evaluation.risk.log_evidence`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from evaluation import fairness as fair
from evaluation.risk import add_fairness, new_evidence
from explain import plots
from models.errors import VeriserveError

Progress = Callable[[int, int], None] | None
ASSESSED = ("face-match", "face-quality", "liveness-passive", "ocr", "asr-zh")


def _fairness_plots(evidence: dict, out: Path, plots_: dict[str, Path]) -> None:
    for attribute, entry in evidence["fairness"].items():
        for metric in entry["gaps"]:
            key = f"fairness_{attribute}_{metric}"
            plots_[key] = plots.fairness(entry["table"], metric, out / f"{key}.png",
                                         title=f"{metric} by {attribute} (95 % bootstrap interval)")


def face_match(model, info, out: Path, *, variants: int = 12, n_boot: int = 300, progress: Progress = None):
    """FMR/FNMR at the deployed threshold, per group of the hand-labelled demo photos (pair-based)."""
    from evaluation import face_match as fm
    from evaluation.pairs import demo_pairs

    pairs = demo_pairs(variants=variants)
    result = fm.evaluate(model, pairs, progress=progress)
    s, thr = result.summary, result.deployed_threshold
    ev = new_evidence(info.registered, info.version, model.card, dataset=pairs.name,
                      provenance="9 photos shipped in PyPI packages (insightface, scikit-image, matplotlib), "
                                 f"{variants} augmented captures each (scale, rotation, light, JPEG, crops)",
                      group_source=fair.DEMO_GROUP_SOURCE)
    ev["operating_point"] = {"threshold": thr, "fmr": s["fmr_at_deployed"], "fnmr": s["fnmr_at_deployed"],
                             **model.threshold.operating_point}
    ev["metrics"] = {k: s[k] for k in ("fmr_at_deployed", "fnmr_at_deployed", "eer", "failure_to_acquire_rate",
                                       "genuine_pairs", "impostor_pairs")}
    keys_a, keys_b, scores, genuine = zip(*result.pair_scores, strict=True)
    for attribute in fair.DEMO_ATTRIBUTES:
        labels = fair.demo_group_labels(attribute)
        ga = [labels[pairs.identity[k]] for k in keys_a]
        gb = [labels[pairs.identity[k]] for k in keys_b]
        add_fairness(ev, attribute, fair.pair_error_table(scores, genuine, ga, gb, thr, n_boot=n_boot),
                     ("fmr", "fnmr"))
    ev["explanations"] = {
        "method": "threshold on the cosine similarity of two face embeddings",
        "notes": "The decision has one input, so its explanation is the margin to the threshold (returned with "
                 "every response). The embedding network is not explained at pixel level. The account-opening "
                 "decision over quality, liveness and match is explained with KernelExplainer "
                 "(explain/decision.py).",
        "importance": {}}
    ev["monitoring_reference"] = {"score": "similarity", "scores": [round(float(x), 5) for x in result.genuine],
                                  "pass_rate": round(1 - s["fnmr_at_deployed"], 4), "threshold": thr,
                                  "population": "genuine pairs (production traffic is mostly genuine customers)"}
    ev["limitations"] += ["demo pairs: 9 people, all light-skinned; group gaps on them are indicative only"]
    figs = {k: v for k, v in fm.plot(result, out).items()}
    _fairness_plots(ev, out, figs)
    return ev, figs


def face_quality(model, info, out: Path, *, variants: int = 6, n_boot: int = 300, seed: int = 0,
                 progress: Progress = None):
    """Quality-check failure rate per group; KernelExplainer over the measures behind the 0-100 score."""
    from evaluation.pairs import augment, demo_people
    from explain.kernel import KernelExplanations
    from models.face.types import QualityInput

    rng = np.random.default_rng(seed)
    people = demo_people()
    rows = []
    total = len(people) * variants
    for person, photo in people.items():
        for v in range(variants):
            image = photo if v == 0 else augment(photo, rng)
            q = model.predict(QualityInput(image=image))
            rows.append({"person": person, "passed": q.passed, "score": q.score, "measures": q.measures,
                         "reasons": q.reasons})
            if progress:
                progress(len(rows), total)
    failed = np.array([not r["passed"] for r in rows])
    ev = new_evidence(info.registered, info.version, model.card, dataset=f"demo-photos:v{variants}:seed{seed}",
                      provenance="9 photos shipped in PyPI packages with augmented captures",
                      group_source=fair.DEMO_GROUP_SOURCE)
    ev["operating_point"] = {"rule": "every check within its limit (QualityLimits)"}
    ev["metrics"] = {"pass_rate": round(float(1 - failed.mean()), 4), "failure_rate": round(float(failed.mean()), 4),
                     "mean_score": round(float(np.mean([r["score"] for r in rows])), 2), "captures": len(rows)}
    for attribute in fair.DEMO_ATTRIBUTES:
        labels = fair.demo_group_labels(attribute)
        add_fairness(ev, attribute, fair.rate_table(failed, [labels[r["person"]] for r in rows], "failure_rate",
                                                    n_boot=n_boot), ("failure_rate",))
    def number(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    measured = [r for r in rows if r["measures"]]  # captures where a face was found
    keys = [k for k, v in measured[0]["measures"].items()
            if number(v) and sum(number(r["measures"].get(k)) for r in measured) >= 0.9 * len(measured)]
    x = np.array([[r["measures"][k] for k in keys] for r in measured
                  if all(number(r["measures"].get(k)) for k in keys)], float)

    def score(batch: np.ndarray) -> np.ndarray:
        return np.array([model._score({**dict(zip(keys, row, strict=True)), "in_frame": True}) for row in batch])

    att = KernelExplanations(score, x, keys, max_background=10).explain(x[:: max(1, len(x) // 12)], nsamples=200)
    reasons: dict[str, int] = {}
    for r in rows:
        for why in r["reasons"]:
            key = why.split("(")[0].strip()
            reasons[key] = reasons.get(key, 0) + 1
    ev["explanations"] = {"method": "KernelExplainer over the face measures behind the 0-100 quality score; "
                                    "every failed check returns its reason",
                          "importance": att.importance(), "failure_reasons": reasons}
    ev["monitoring_reference"] = {"score": "quality", "scores": [r["score"] for r in rows],
                                  "pass_rate": ev["metrics"]["pass_rate"], "threshold": None,
                                  "population": "demo captures"}
    figs = {"importance": plots.importance(att.importance(), out / "importance.png",
                                           title="quality score: mean |SHAP| per measure")}
    _fairness_plots(ev, out, figs)
    return ev, figs


def synthetic_liveness_set(seed: int = 1, per_face: int = 8) -> Path:
    """The synthetic attack set rendered from the demo photos (cached in ``VERISERVE_CACHE``)."""
    from serving import store
    from training.liveness.train import synthetic_dataset

    work = store.cache_home() / "datasets" / f"synthetic-liveness-seed{seed}-x{per_face}"
    if not (work / "live").is_dir():
        synthetic_dataset(work, seed=seed, per_face=per_face)
    return work


def liveness(model, info, out: Path, *, weights: Path, dataset: Path | None = None,
             groups: dict[str, str] | None = None, n_boot: int = 300, explain_samples: int = 40,
             progress: Progress = None):
    """ISO/IEC 30107-3 figures at the deployed threshold, APCER per attack type and BPCER per group with
    intervals; TreeExplainer importance (texture model) or GradientExplainer heat maps (CNN)."""
    from evaluation import liveness as ev_live
    data = Path(dataset) if dataset else synthetic_liveness_set(seed=1)
    result = ev_live.evaluate(model, data, groups=groups, progress=progress)
    r, thr = result["report"], result["threshold"]
    samples = result["samples"]
    ev = new_evidence(info.registered, info.version, model.card, dataset=str(data),
                      provenance=("synthetic print/replay/cut-out attacks rendered from the shipped demo photos "
                                  "(seed 1; the bootstrap model trained on seed 0 renders of the same people)")
                      if dataset is None else f"operator dataset {data} ({result['layout']})",
                      group_source=fair.DEMO_GROUP_SOURCE if groups is None else "operator CSV subject,group")
    ev["operating_point"] = {"threshold": thr, **model.threshold.operating_point}
    ev["metrics"] = {"apcer_max": r["apcer_max"], "bpcer": r["bpcer"], "acer": r["acer"],
                     "bpcer_at_apcer_5pct": r["bpcer_at_apcer_5pct"],
                     "failure_to_acquire": result["failure_to_acquire"], "samples": len(samples)}
    ev["metrics"].update({f"apcer.{k}": v for k, v in r["apcer"].items()})
    attacks = [s for s in samples if s["attack"] != "bona_fide"]
    bona = [s for s in samples if s["attack"] == "bona_fide"]
    add_fairness(ev, "attack_type", fair.rate_table([s["score"] >= thr for s in attacks],
                                                    [s["attack"] for s in attacks], "apcer", n_boot=n_boot),
                 ("apcer",))
    attributes = {"group": groups} if groups else {a: fair.demo_group_labels(a) for a in fair.DEMO_ATTRIBUTES}
    for attribute, labels in attributes.items():
        add_fairness(ev, attribute, fair.rate_table([s["score"] < thr for s in bona],
                                                    [labels.get(s["subject"], "unlabelled") for s in bona],
                                                    "bpcer", n_boot=n_boot), ("bpcer",))
    figs: dict[str, Path] = {}
    ev["explanations"] = _explain_liveness(model, weights, samples, out, figs, explain_samples)
    ev["monitoring_reference"] = {"score": "live", "scores": [s["score"] for s in bona],
                                  "pass_rate": round(1 - r["bpcer"], 4), "threshold": thr,
                                  "population": "bona fide presentations"}
    _fairness_plots(ev, out, figs)
    return ev, figs


def _explain_liveness(model, weights: Path, samples: list[dict], out: Path, figs: dict, n: int) -> dict:
    from models.imageio import decode_image

    rng = np.random.default_rng(0)
    picked = [samples[i] for i in sorted(rng.choice(len(samples), min(n, len(samples)), replace=False))]
    crops, kinds = [], []
    for s in picked:
        try:
            crops.append(model.crop(decode_image(Path(s["path"]).read_bytes(), field=s["path"]))[0])
            kinds.append(s["attack"])
        except VeriserveError:  # no face, or a video sample: not explained
            continue
    if model.card.name == "liveness-passive-texture":
        from explain.tree import TreeExplanations
        from models.liveness import features

        att = TreeExplanations(model.classifier, features.FEATURE_NAMES).explain(
            np.stack([features.extract(c) for c in crops]))
        figs["importance"] = plots.importance(att.importance(), out / "importance.png",
                                              title="texture liveness: mean |SHAP| (log-odds of live)")
        return {"method": "TreeExplainer (exact SHAP, log-odds of live) over named texture features",
                "importance": att.importance(), "samples": len(crops)}
    from explain.cnn import heat_maps, load_network
    net = load_network(weights)
    show = [i for k in dict.fromkeys(kinds) for i in [kinds.index(k)]]
    maps = heat_maps(net, [crops[i] for i in show], crops, nsamples=64)
    figs["heat_maps"] = plots.heat_maps([crops[i] for i in show], maps, [kinds[i] for i in show],
                                        out / "heat_maps.png", title="GradientExplainer: live logit")
    return {"method": "GradientExplainer heat maps of the live logit (PyTorch weights beside the ONNX)",
            "importance": {}, "samples": len(show)}



def ocr(model, info, out: Path, *, per_type: int = 2, doc_types: tuple[str, ...] | None = None, seed: int = 0,
        n_boot: int = 300, progress: Progress = None):
    """Field accuracy and CER per document type and per name/address group, on rendered captures."""
    from evaluation import ocr as ev_ocr
    from models.ocr.types import DOC_TYPES

    types = tuple(doc_types or DOC_TYPES)
    rows = ev_ocr.score_fields(model, per_type=per_type, doc_types=types, seed=seed, progress=progress)
    result = ev_ocr.summarise(rows, model=model.card.name, version=model.card.version, per_type=per_type, seed=seed)
    o = result["overall"]
    ev = new_evidence(info.registered, info.version, model.card, dataset=f"rendered:{per_type}x{len(types)}:seed{seed}",
                      provenance="documents rendered by evaluation/documents with fake identities (valid check "
                                 "digits), photographed synthetically (background, perspective, blur, noise, JPEG, "
                                 "glare, rotation)",
                      group_source="generator labels: name kind (common, minority with ·, rare characters) and "
                                   "address length, set when the identity is drawn")
    ev["operating_point"] = {"rule": "a field is flagged when its format or check digit fails; values are never "
                                     "corrected"}
    ev["metrics"] = {k: o[k] for k in ("field_accuracy", "cer", "flagged_rate", "silent_error_rate")}
    ev["metrics"]["fields"] = o["n"]
    correct = [r["correct"] for r in rows]
    cer_fn = {"field_accuracy": lambda t, p: float(np.mean(p)), "cer": lambda t, p: float(np.mean(t))}
    cers = [r["cer"] for r in rows]
    expanded = [(c, e, g) for r, c, e in zip(rows, correct, cers, strict=True)
                for g in ev_ocr.field_groups(r["field"], r["groups"]) if g != "all"]
    if expanded:
        c, e, g = zip(*expanded, strict=True)
        add_fairness(ev, "name_and_address", fair.by_group_with_ci(e, c, g, cer_fn, n_boot=n_boot),
                     ("field_accuracy", "cer"))
    add_fairness(ev, "doc_type", fair.by_group_with_ci(cers, correct, [r["doc_type"] for r in rows], cer_fn,
                                                       n_boot=n_boot), ("field_accuracy",))
    ev["explanations"] = {"method": "rule-based field checks (GB 11643, Luhn, GB 32100, ICAO 9303, ...) with a "
                                    "reason per field, and the recogniser's confidence per field",
                          "importance": {},
                          "notes": "the text recogniser is a sequence model; its reads are not attributed to pixels"}
    docs: dict[tuple, list[bool]] = {}
    for r in rows:
        docs.setdefault((r["doc_type"], r["sample"]), []).append(r["valid"])
    ev["monitoring_reference"] = {"score": "field_valid_rate",
                                  "scores": [round(float(np.mean(v)), 4) for v in docs.values()],
                                  "pass_rate": round(float(np.mean([all(v) for v in docs.values()])), 4),
                                  "threshold": None, "population": "rendered documents (all fields valid = pass)"}
    figs = {"by_type": ev_ocr.plot(result, out / "by_type.png")}
    _fairness_plots(ev, out, figs)
    return ev, figs


def asr_zh(model, info, out: Path, *, repeats: int = 1, seed: int = 0, n_boot: int = 300, progress: Progress = None):
    """Answer accuracy and CER per voice group (seen / unseen in training), sample rate, speaking rate and
    noise, from TTS -> upload -> ASR round trips."""
    from evaluation import speech as ev_speech
    from models.registry import create_model

    result = ev_speech.evaluate(create_model("tts-espeak"), model, repeats=repeats, seed=seed, progress=progress)
    rows = [r for r in result["rows"] if r["task"] == "zh"]
    ev = new_evidence(info.registered, info.version, model.card, dataset=f"espeak-ng round trips:r{repeats}:seed{seed}",
                      provenance="Mandarin answers and read-aloud sentences synthesised by espeak-ng with voice "
                                 "variants seen and unseen in training, resampled and mixed with noise",
                      group_source="synthesis conditions (voice variant seen/unseen, sample rate, speaking rate, "
                                   "SNR); no human speakers")
    correct = [r["correct"] for r in rows]
    ev["operating_point"] = {"rule": "the most probable phrase; confidence below the card's floor -> unclear"}
    ev["metrics"] = {"accuracy": round(float(np.mean(correct)), 4),
                     "cer": round(float(np.mean([r["cer"] for r in rows])), 4), "clips": len(rows),
                     "rtf_p50": round(float(np.median([r["rtf"] for r in rows])), 4)}
    fns = {"accuracy": lambda t, p: float(np.mean(p)), "cer": lambda t, p: float(np.mean(t))}
    cers = [r["cer"] for r in rows]
    for attribute, key in (("voice", "group"), ("sample_rate", "rate_hz"), ("speaking_rate", "wpm"),
                           ("noise", "snr_db")):
        labels = [str(r[key]) if r[key] is not None else "clean" for r in rows]
        add_fairness(ev, attribute, fair.by_group_with_ci(cers, correct, labels, fns, n_boot=n_boot),
                     ("accuracy", "cer"))
    ev["explanations"] = {"method": "class probabilities per answer are returned; low confidence -> unclear",
                          "importance": {},
                          "notes": "no feature attribution for the keyword network yet"}
    ev["monitoring_reference"] = {"score": "accuracy", "scores": [], "pass_rate": ev["metrics"]["accuracy"],
                                  "threshold": None, "population": "synthetic round trips"}
    ev["limitations"] += ["synthetic voices only; no real speakers, accents or ages are represented"]
    figs: dict[str, Path] = {}
    _fairness_plots(ev, out, figs)
    return ev, figs
