"""The dual-recording answer vocabulary and a synthesised, augmented speech corpus for it.

No pretrained Chinese recogniser can be had offline, so Veriserve trains a small keyword model for what
a customer says in a dual recording: confirmations and refusals, single digits (menu choices), and the
sentences a customer is asked to read aloud, plus everyday speech outside that vocabulary. Speech comes
from espeak-ng's Mandarin voice with several variants, rates and pitches; augmentation adds noise at
random SNRs, room reverberation, gain and speed changes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from models.speech.audio import RATE, resample

ANSWERS = ["是", "是的", "对", "确认", "我确认", "同意", "本人自愿", "清楚", "明白", "不是", "不同意", "不清楚"]
READ_ALOUD = ["本人已阅读并理解风险揭示书", "我自愿开立证券账户", "本人承诺所提供信息真实有效", "我已知晓投资风险",
              "我同意签署开户协议"]
DIGITS = "零一二三四五六七八九"
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f4"]
HELD_OUT_VARIANTS = ["m6", "f5"]  # never used in training: the evaluation's unseen voices


OTHER = "<other>"
FILLER = "今天天气很好我们去公园吃饭工作学习电话地址时间上午下午银行柜台股票基金市场价格公司朋友家里学校"


def classes() -> list[str]:
    """What the recogniser tells apart: every answer, every digit, every read-aloud sentence, and
    ``<other>`` (speech outside the vocabulary)."""
    return [*ANSWERS, *DIGITS, *READ_ALOUD, OTHER]


def other_sentence(rng: random.Random) -> str:
    """Speech outside the vocabulary: 2-8 everyday characters that are not one of the phrases."""
    while True:
        text = "".join(rng.choice(FILLER) for _ in range(rng.randint(2, 8)))
        if text not in ANSWERS and text not in READ_ALOUD:
            return text


def sentence(rng: random.Random) -> tuple[str, str]:
    """``(label, text to speak)``: classes drawn uniformly."""
    label = rng.choice(classes())
    return label, (other_sentence(rng) if label == OTHER else label)


@dataclass
class Utterance:
    label: str
    text: str
    audio: np.ndarray  # float32 16 kHz
    voice: str
    rate: int
    pitch: int
    snr_db: float | None


def reverb(x: np.ndarray, rng: random.Random) -> np.ndarray:
    """A small room: exponentially decaying noise impulse response (RT60 0.15–0.5 s)."""
    rt60 = rng.uniform(0.15, 0.5)
    n = int(rt60 * RATE)
    nprng = np.random.default_rng(rng.randrange(2**32))
    ir = nprng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    ir[0] = 1.0
    wet = np.convolve(x, ir / np.abs(ir).sum() * 4)[: len(x)]
    return (0.6 * x + 0.4 * wet).astype(np.float32)


def add_noise(x: np.ndarray, snr_db: float, rng: random.Random) -> np.ndarray:
    nprng = np.random.default_rng(rng.randrange(2**32))
    noise = nprng.standard_normal(len(x)).astype(np.float32)
    if rng.random() < 0.5:  # pink-ish: low-passed
        noise = np.convolve(noise, np.ones(8) / 8, mode="same").astype(np.float32)
    p_sig = float(np.mean(x**2)) + 1e-9
    p_noise = float(np.mean(noise**2)) + 1e-9
    return (x + noise * np.sqrt(p_sig / (p_noise * 10 ** (snr_db / 10)))).astype(np.float32)


def augment(x: np.ndarray, rng: random.Random) -> tuple[np.ndarray, float | None]:
    if rng.random() < 0.3:  # speed perturbation 0.9-1.1
        factor = rng.choice([0.9, 0.95, 1.05, 1.1])
        x = resample(x, int(RATE * factor), RATE)
    if rng.random() < 0.4:
        x = reverb(x, rng)
    snr = None
    if rng.random() < 0.7:
        snr = rng.uniform(5, 30)
        x = add_noise(x, snr, rng)
    pad = np.zeros(int(rng.uniform(0.05, 0.4) * RATE), np.float32)
    x = np.concatenate([pad, x, pad[: len(pad) // 2]]) * rng.uniform(0.3, 1.0)
    return np.clip(x, -1, 1).astype(np.float32), snr


def synthesise(tts, n: int, seed: int, variants: list[str] = VARIANTS, augmented: bool = True,
               texts: list[str] | None = None) -> list[Utterance]:
    """``n`` utterances (or one per text in ``texts``) from ``tts`` (a loaded ``tts-espeak``)."""
    from models.speech.types import TtsInput

    rng = random.Random(seed)
    out = []
    for i in range(n if texts is None else len(texts)):
        label, text = (texts[i], texts[i]) if texts is not None else sentence(rng)
        voice, rate, pitch = rng.choice(variants), rng.randint(120, 220), rng.randint(25, 75)
        audio = tts.predict(TtsInput(text=text, lang="zh", voice=voice, rate=rate, pitch=pitch)).audio
        snr = None
        if augmented:
            audio, snr = augment(audio, rng)
        out.append(Utterance(label, text, audio, voice, rate, pitch, snr))
    return out
