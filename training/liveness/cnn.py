"""Train the passive liveness CNN (MiniFASNet-size by default, or MobileNetV3-small; random init) and
export it to ONNX.

Same data, crops and subject split as the texture model; one training subject group is held out as
validation to choose the threshold at APCER 5 %, then the test subjects are scored at it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from evaluation import pad_metrics as pad
from models.base import ModelCard, Threshold, describe_weights
from models.errors import InvalidInput
from models.liveness.cnn import INPUT_PX, WEIGHTS_FILE, CNNLiveness, to_tensor
from training.liveness.datasets import load_dataset
from training.liveness.train import (
    SYNTHETIC_NOTE,
    TARGET_APCER,
    TrainResult,
    attacks_of,
    face_crops,
    labels,
    split_subjects,
)


def tiny_fas(num_classes: int = 2):
    """A MiniFASNet-size texture network (~100 k parameters): four conv-BN-ReLU blocks with pooling and a
    linear head. Small enough to learn from a few hundred crops on a CPU, unlike a MobileNet from scratch."""
    from torch import nn

    def block(cin: int, cout: int) -> list:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.MaxPool2d(2)]

    return nn.Sequential(*block(3, 16), *block(16, 32), *block(32, 48), *block(48, 64),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, num_classes))


ARCHITECTURES = {"tinyfas": tiny_fas, "mobilenetv3s": None}
TORCH_WEIGHTS = "cnn.pt"


def build(architecture: str):
    """The untrained network of an architecture name (the card's version starts with it)."""
    import torchvision

    if architecture not in ARCHITECTURES:
        raise InvalidInput(f"architecture must be one of {sorted(ARCHITECTURES)}")
    return tiny_fas() if architecture == "tinyfas" else torchvision.models.mobilenet_v3_small(weights=None,
                                                                                              num_classes=2)


def _augment(batch, rng: np.random.Generator):
    import torch

    flip = torch.from_numpy(rng.random(batch.shape[0]) < 0.5)
    batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
    gain = torch.from_numpy(rng.uniform(0.85, 1.15, (batch.shape[0], 1, 1, 1)).astype(np.float32))
    return batch * gain


def _recalibrate_batchnorm(net, x, batch_size: int) -> None:
    """Recompute BatchNorm running statistics as exact averages over the training crops: torchvision's
    MobileNetV3 uses momentum 0.01, far too slow for a few hundred steps, and the eval-mode network
    would otherwise see stale statistics."""
    import torch

    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    net.train()
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            net(x[start:start + batch_size])


def train_cnn(dataset: str | Path, out_dir: str | Path, *, seed: int = 0, epochs: int = 12, batch_size: int = 32,
              architecture: str = "tinyfas",
              test_fraction: float = 0.25, synthetic: bool = False,
              progress: Callable[[str, int, int], None] | None = None) -> TrainResult:
    import torch

    layout, samples = load_dataset(dataset)
    crops, kept, skipped = face_crops(samples, (lambda n, t: progress("face crops", n, t)) if progress else None,
                                      centre_fallback=synthetic)
    y, kinds, subjects = labels(kept)
    test = split_subjects(subjects, test_fraction, seed)
    val = split_subjects(subjects, test_fraction, seed + 1) & ~test
    if not val.any() or len(set(y[val])) < 2:
        raise InvalidInput("not enough subjects for a validation split")
    train = ~test & ~val
    x = torch.from_numpy(to_tensor(crops))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build(architecture)
    weight = torch.tensor([1.0 / max(1, (~y[train]).sum()), 1.0 / max(1, y[train].sum())], dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight / weight.sum() * 2)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    idx = np.flatnonzero(train)
    targets = torch.from_numpy(y.astype(np.int64))
    steps = epochs * int(np.ceil(len(idx) / batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    step, curve = 0, []
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(idx)
        total = 0.0
        for start in range(0, len(order), batch_size):
            b = order[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(net(_augment(x[b], rng)), targets[b])
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(b)
            step += 1
            if progress:
                progress(f"epoch {epoch + 1}/{epochs}", step, steps)
        curve.append(total / len(order))
    _recalibrate_batchnorm(net, x[idx], batch_size)
    net.eval()
    with torch.no_grad():
        probs = torch.softmax(net(x), dim=1)[:, 1].numpy()
    val_attacks = attacks_of(probs[val], [k for k, v in zip(kinds, val, strict=True) if v])
    threshold = pad.threshold_at_apcer(val_attacks, TARGET_APCER)
    val_report = pad.report(probs[val][y[val]], val_attacks, threshold)
    test_attacks = attacks_of(probs[test], [k for k, t in zip(kinds, test, strict=True) if t])
    test_report = pad.report(probs[test][y[test]], test_attacks, threshold)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(net, torch.zeros(1, 3, INPUT_PX, INPUT_PX), str(out / WEIGHTS_FILE), input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}},
                      dynamo=False, opset_version=17)
    torch.save(net.state_dict(), out / TORCH_WEIGHTS)  # for gradient explanations (explain/cnn.py)
    test_subjects = sorted({str(s) for s, t in zip(subjects, test, strict=True) if t})
    provenance = (f"{layout} dataset {Path(dataset).name}: {int(y.sum())} bona fide / {int((~y).sum())} attack "
                  f"images from {len(set(subjects))} subjects; held-out subjects: {', '.join(test_subjects)}")
    if synthetic:
        provenance = SYNTHETIC_NOTE + ". " + provenance
    card = ModelCard(
        name=CNNLiveness.name, family="liveness", task="liveness-passive", version=f"{architecture}-seed{seed}",
        backend="onnxruntime", licence="Veriserve (trained by this installation from random initialisation)",
        commercial_use=True, data_provenance=provenance,
        intended_use="passive presentation-attack screening of a cooperative selfie, alongside action liveness",
        preprocessing={"crop": "HOG face box x1.6, square", "input": f"{INPUT_PX}x{INPUT_PX} RGB, (x/255-0.5)/0.25",
                       "architecture": f"{architecture}, 2 classes (attack, live), random initialisation"},
        thresholds={"live": Threshold(value=round(threshold, 6),
                                      operating_point={"apcer": round(val_report["apcer_max"], 6),
                                                       "bpcer": round(val_report["bpcer"], 6)},
                                      source=f"validation subjects at APCER {TARGET_APCER:.0%} (30107-3)")},
        metrics={f"test.{k}": float(v) for k, v in test_report.items() if isinstance(v, (int, float))},
        limitations=[SYNTHETIC_NOTE] if synthetic else ["evaluate per attack type on the operator's data"],
        weights=describe_weights(out, {WEIGHTS_FILE: "Veriserve-trained", TORCH_WEIGHTS: "Veriserve-trained"}),
    )
    card.write(out)
    return TrainResult(out_dir=out, card=card,
                       params={"model": "cnn", "architecture": architecture, "epochs": epochs,
                               "batch_size": batch_size, "seed": seed,
                               "layout": layout, "samples": len(kept), "skipped": len(skipped),
                               "final_train_loss": round(curve[-1], 5)},
                       test_report=test_report, cv_report=val_report, skipped=skipped, test_subjects=test_subjects,
                       test_scores={"bona_fide": probs[test][y[test]], **test_attacks}, curve=curve)
