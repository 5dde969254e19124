"""``veriserve train asr-intent``: synthesise the answer corpus, train the keyword recogniser, card it.

Bitwise reproducible for a seed when run in a fresh process, as the bootstrap does (espeak-ng is seeded per
utterance, but its pitch flutter carries over between calls, so speech synthesised earlier in the same process
changes the corpus slightly); a few minutes on 2 CPU cores. The held-out set uses voice variants never heard in
training, so its accuracy measures generalisation to a new voice, not memorisation.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.base import ModelCard, describe_weights
from models.speech.features import fbank
from models.speech.keywords import CONFIG, WEIGHTS, build_network, normalise
from training.speech import corpus

PROVENANCE = ("synthetic Mandarin speech only: espeak-ng 1.52 cmn voice, variants {variants}, rates 120-220 wpm, "
              "pitch 25-75; augmented with white/low-passed noise at 5-30 dB SNR, small-room reverberation "
              "(RT60 0.15-0.5 s), gain, padding and 0.9-1.1x speed. Classes: the answers {answers}, the digits "
              "零-九, the read-aloud sentences {read}, and <other> (random everyday characters). "
              "No recorded human speech.")


@dataclass
class TrainResult:
    out_dir: Path
    card: ModelCard
    metrics: dict[str, float]
    history: list[dict]
    params: dict


def _crop(feats: np.ndarray, max_frames: int = 600) -> np.ndarray:
    return feats[:max_frames]


def accuracy(net, data: list[tuple[np.ndarray, int]]) -> float:
    import torch

    net.eval()
    with torch.inference_mode():
        hits = sum(int(net(torch.from_numpy(f)[None]).argmax(-1)) == y for f, y in data)
    return hits / max(len(data), 1)


def train(out_dir: str | Path, *, n_train: int = 1800, n_eval: int = 200, epochs: int = 12, seed: int = 0,
          progress: Callable[[str, int, int], None] | None = None) -> TrainResult:
    import torch

    from models.speech.tts import EspeakTTS

    torch.manual_seed(seed)
    tts = EspeakTTS()
    tts.load(tts.default_path())
    names = corpus.classes()
    index = {c: i for i, c in enumerate(names)}
    t0 = time.perf_counter()
    if progress:
        progress("synthesising speech", 0, epochs)
    train_set = [(_crop(normalise(fbank(u.audio))), index[u.label]) for u in corpus.synthesise(tts, n_train, seed)]
    eval_set = [(_crop(normalise(fbank(u.audio))), index[u.label])
                for u in corpus.synthesise(tts, n_eval, seed + 1, variants=corpus.HELD_OUT_VARIANTS)]
    synth_s = time.perf_counter() - t0
    net = build_network(len(names))
    steps = epochs * ((len(train_set) + 31) // 32)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=steps)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.05)
    rng = random.Random(seed)
    history = []
    for epoch in range(epochs):
        net.train()
        order = list(range(len(train_set)))
        rng.shuffle(order)
        total = 0.0
        for i in range(0, len(order), 32):
            batch = [train_set[j] for j in order[i:i + 32]]
            x = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(f) for f, _ in batch], batch_first=True)
            y = torch.tensor([label for _, label in batch])
            loss = loss_fn(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(batch)
        entry = {"epoch": epoch + 1, "loss": round(total / len(train_set), 4)}
        if (epoch + 1) % 4 == 0 or epoch == epochs - 1:
            entry["heldout_accuracy"] = round(accuracy(net, eval_set), 4)
        history.append(entry)
        if progress:
            progress(f"epoch {epoch + 1}/{epochs} loss {entry['loss']:.3f}", epoch + 1, epochs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), out / WEIGHTS)
    (out / CONFIG).write_text(json.dumps({"classes": names, "width": 128}, ensure_ascii=False), encoding="utf-8")
    metrics = {"heldout_accuracy": history[-1]["heldout_accuracy"], "train_loss": history[-1]["loss"],
               "train_utterances": float(n_train), "heldout_utterances": float(n_eval),
               "train_seconds": round(time.perf_counter() - t0, 1), "synthesis_seconds": round(synth_s, 1)}
    params = {"n_train": n_train, "n_eval": n_eval, "epochs": epochs, "seed": seed, "classes": len(names),
              "train_variants": ",".join(corpus.VARIANTS), "heldout_variants": ",".join(corpus.HELD_OUT_VARIANTS)}
    card = ModelCard(
        name="asr-intent-zh", family="speech", task="asr", version=f"keywords-seed{seed}", backend="torch",
        licence="Veriserve (trained here on espeak-ng output)", commercial_use=True,
        data_provenance=PROVENANCE.format(variants=", ".join(corpus.VARIANTS), answers="/".join(corpus.ANSWERS),
                                          read="/".join(corpus.READ_ALOUD)),
        intended_use="recognise a customer's spoken answer in Mandarin dual recording: confirmations, refusals, "
                     "digits and the configured read-aloud sentences",
        preprocessing={"features": "80-bin log-mel fbank (kaldi-native-fbank), 25/10 ms, per-utterance CMVN",
                       "network": "4 conv1d layers (stride 8 in all), mean+max pooling, softmax over the phrases"},
        metrics=metrics, config={},
        limitations=["closed vocabulary: other speech is reported as <other> (no transcript)",
                     "trained on synthetic speech only: measure on recorded customer answers before relying on it",
                     "held-out accuracy is on unseen espeak-ng voice variants, not on human voices"],
        weights=describe_weights(out, {WEIGHTS: "Veriserve", CONFIG: "Veriserve"}),
    )
    card.write(out)
    return TrainResult(out, card, metrics, history, params)


def log_and_register(client, result: TrainResult, *, registered: str = "asr-zh", reason: str = "trained",
                     set_champion: bool = False):
    """MLflow run for the training (params, per-epoch loss, held-out accuracy, card), then a registered
    version carrying the card."""
    import mlflow

    from training.bootstrap import register

    with mlflow.start_run(run_name=f"train {result.card.name}") as run:
        mlflow.log_params(result.params)
        mlflow.log_metrics(result.metrics)
        for h in result.history:
            mlflow.log_metric("train.loss", h["loss"], step=h["epoch"])
            if "heldout_accuracy" in h:
                mlflow.log_metric("heldout.accuracy", h["heldout_accuracy"], step=h["epoch"])
        mlflow.log_dict(result.card.model_dump(mode="json"), "card.json")
        run_id = run.info.run_id
    reg = register(client, registered, result.card.name, {}, result.out_dir, card=result.card, reason=reason,
                   set_champion=set_champion)
    return run_id, reg
