"""Speech evaluation by TTS -> ASR round trips: accuracy and CER/WER per voice group, speaking rate,
sample rate and noise level, plus the real-time factor; logged to MLflow.

Mandarin: the keyword recogniser on every answer and read-aloud sentence, spoken by the two voice
variants held out of its training (``unseen``) and two it was trained on (``seen``). English:
pocketsphinx in grammar mode on the confirmation answers, and in open mode (WER) on full sentences.
Each clip is resampled to the tested rate, written as WAV and decoded back exactly as an upload would be.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from models.speech.audio import RATE, decode_audio, encode_wav, resample
from models.speech.confirm import EN_ANSWERS
from models.speech.types import AsrInput, TtsInput
from models.text import cer, wer
from training.speech import corpus

RATES_HZ = (8000, 16000, 44100)
SPEAKING_RATES = (130, 170, 210)
NOISE_DB = (None, 20.0, 10.0)
EN_SENTENCES = ["yes I understand the risks", "I confirm the information is true", "I agree to open the account"]


def _upload(audio: np.ndarray, rate: int, snr: float | None, rng: random.Random) -> np.ndarray:
    if snr is not None:
        audio = corpus.add_noise(audio, snr, rng)
    x = resample(audio, RATE, rate)
    return decode_audio(_wav(x, rate))


def _wav(x: np.ndarray, rate: int) -> bytes:
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -1, 1), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def conditions(seed: int, n: int) -> list[dict]:
    rng = random.Random(seed)
    return [{"rate_hz": rng.choice(RATES_HZ), "wpm": rng.choice(SPEAKING_RATES), "snr_db": rng.choice(NOISE_DB)}
            for _ in range(n)]


def evaluate(tts, zh_model, en_model=None, *, repeats: int = 2, seed: int = 0,
             progress: Callable[[int, int], None] | None = None) -> dict:
    """TTS -> upload (rate, noise) -> ASR round trips; without ``en_model`` only the Mandarin jobs run (their
    conditions are the same either way: they are drawn first)."""
    rng = random.Random(seed)
    jobs = []
    for group, voices in (("unseen", corpus.HELD_OUT_VARIANTS), ("seen", corpus.VARIANTS[:2])):
        for voice in voices:
            for text in corpus.ANSWERS + corpus.READ_ALOUD:
                for _ in range(repeats):
                    jobs.append(("zh", group, voice, text))
    for voice in ("f2", "m3") if en_model is not None else ():
        for text in EN_ANSWERS[:6]:
            jobs.append(("en-grammar", "en", voice, text))
        for text in EN_SENTENCES:
            jobs.append(("en-open", "en", voice, text))
    plan = conditions(seed, len(jobs))
    rows = []
    for i, ((task, group, voice, text), cond) in enumerate(zip(jobs, plan, strict=True)):
        lang = "zh" if task == "zh" else "en"
        clean = tts.predict(TtsInput(text=text, lang=lang, voice=voice, rate=cond["wpm"])).audio
        audio = _upload(clean, cond["rate_hz"], cond["snr_db"], rng)
        t0 = time.perf_counter()
        if task == "zh":
            out = zh_model.predict(AsrInput(audio=audio))
        elif task == "en-grammar":
            out = en_model.predict(AsrInput(audio=audio, mode="grammar", phrases=EN_ANSWERS))
        else:
            out = en_model.predict(AsrInput(audio=audio))
        seconds = time.perf_counter() - t0
        ref = text.lower() if lang == "en" else text
        rows.append({"task": task, "group": group, "voice": voice, "text": text, **cond,
                     "correct": out.text == ref, "cer": cer(ref, out.text),
                     "wer": wer(ref, out.text) if lang == "en" else None,
                     "rtf": seconds / (len(audio) / RATE)})
        if progress:
            progress(i + 1, len(jobs))
    return summarise(rows, seed=seed, repeats=repeats, zh_model=zh_model.card.name,
                     en_model=en_model.card.name if en_model is not None else None)


def _stats(rows: list[dict]) -> dict:
    out = {"n": len(rows), "accuracy": round(float(np.mean([r["correct"] for r in rows])), 4),
           "cer": round(float(np.mean([r["cer"] for r in rows])), 4),
           "rtf_p50": round(float(np.median([r["rtf"] for r in rows])), 4)}
    wers = [r["wer"] for r in rows if r["wer"] is not None]
    if wers:
        out["wer"] = round(float(np.mean(wers)), 4)
    return out


def summarise(rows: list[dict], **meta) -> dict:
    result = {**meta, "by_task": {}, "by_condition": {}}
    by_task = defaultdict(list)
    for r in rows:
        by_task[r["task"]].append(r)
    for task, rs in by_task.items():
        result["by_task"][task] = _stats(rs)
        for key in ("group", "rate_hz", "wpm", "snr_db"):
            groups = defaultdict(list)
            for r in rs:
                groups[str(r[key])].append(r)
            result["by_condition"][f"{task}.{key}"] = {k: _stats(v) for k, v in sorted(groups.items())}
    result["rows"] = rows
    return result


def log_to_mlflow(result: dict) -> str:
    import mlflow

    with mlflow.start_run(run_name="evaluate speech round trips") as run:
        mlflow.log_params({"zh_model": result["zh_model"], "en_model": result["en_model"], "seed": result["seed"],
                           "repeats": result["repeats"], "data": "espeak-ng round trips"})
        for task, st in result["by_task"].items():
            mlflow.log_metrics({f"{task}.{k}": v for k, v in st.items() if k != "n"})
        for scope, groups in result["by_condition"].items():
            for g, st in groups.items():
                mlflow.log_metrics({f"{scope}.{g}.{k}".replace("None", "clean"): v for k, v in st.items()
                                    if k in ("accuracy", "cer", "wer")})
        mlflow.log_dict(result, "evaluation.json")
        return run.info.run_id


__all__ = ["evaluate", "log_to_mlflow", "encode_wav"]
