"""Speech: TTS, audio decoding, the three recognisers, intent and read-aloud, dual-recording sessions."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import soundfile as sf

from models.errors import InvalidInput, ModelLoadError, PayloadTooLarge
from models.speech.audio import RATE, InvalidAudio, decode_audio
from models.speech.confirm import confirm
from models.speech.intent import intent, match_ratio
from models.speech.types import AsrInput, TtsInput
from training.speech import corpus


def _say(tts, text: str, lang: str = "zh", voice: str = "m6", rate: int = 160) -> np.ndarray:
    return tts.predict(TtsInput(text=text, lang=lang, voice=voice, rate=rate)).audio


def _encode(audio: np.ndarray, rate: int, fmt: str, subtype: str | None = None, channels: int = 1) -> bytes:
    x = audio if channels == 1 else np.stack([audio] * channels, axis=1)
    buf = io.BytesIO()
    sf.write(buf, x, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def test_tts_mandarin_and_english_with_numbers_read_in_words(tts):
    out = tts.predict(TtsInput(text="2024年3月7日，金额¥1234.50，年化13.5%", lang="zh"))
    assert out.sample_rate == RATE and out.audio.dtype == np.float32 and 3 < out.duration_s < 15
    assert out.spoken_text == "二零二四年三月七日，金额一千二百三十四元五角，年化百分之十三点五"
    en = tts.predict(TtsInput(text="Do you confirm?", lang="en", voice="f2", rate=140, pitch=60))
    assert 0.5 < en.duration_s < 3 and np.abs(en.audio).max() > 0.05
    slow = tts.predict(TtsInput(text="我确认", rate=100)).duration_s
    fast = tts.predict(TtsInput(text="我确认", rate=300)).duration_s
    assert slow > 1.5 * fast
    assert tts.card.weights and "GPL" in tts.card.licence


def test_tts_is_reproducible_in_a_fresh_process():
    """espeak-ng's noise generator is seeded per request: the same request in two fresh processes gives the
    same samples (female variants add breath noise). The bootstrap's training corpus, and with it the trained
    recogniser, depend on it."""
    import subprocess
    import sys

    code = ("import hashlib; from models.registry import create_model; from models.speech.types import TtsInput; "
            "t = create_model('tts-espeak'); print(','.join(hashlib.sha256(t.predict(TtsInput(text=x, lang='zh', "
            "voice='f2')).audio.tobytes()).hexdigest() for x in ('是的', '不是')))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
            for _ in range(2)]
    assert runs[0] == runs[1] and len(set(runs[0].split(","))) == 2, runs


@pytest.mark.parametrize("bad", [{"text": ""}, {"text": "你好", "lang": "fr"}, {"text": "你好", "voice": "x9"},
                                 {"text": "你好", "rate": 20}, {"text": "长" * 3000}])
def test_tts_rejects_bad_requests(tts, bad):
    with pytest.raises(InvalidInput):
        tts.predict(TtsInput(**bad))


def test_audio_formats_rates_and_channels_decode_to_16k_mono(tts):
    base = _say(tts, "本人自愿")
    seconds = len(base) / RATE
    from models.speech.audio import resample

    for rate in (8000, 16000, 44100):
        x = resample(base, RATE, rate)
        for fmt, subtype in (("WAV", "PCM_16"), ("FLAC", None), ("OGG", "VORBIS"), ("MP3", None)):
            got = decode_audio(_encode(x, rate, fmt, subtype, channels=2 if rate == 44100 else 1))
            assert abs(len(got) / RATE - seconds) < 0.1, (rate, fmt)
            assert np.corrcoef(got[: len(base)][:16000], base[: len(got)][:16000])[0, 1] > 0.5 or fmt in ("MP3", "OGG")
    pcm16 = (base * 32767).astype("<i2").tobytes()
    assert abs(len(decode_audio(pcm16, raw_rate=16000)) - len(base)) <= 1
    pcm8 = ((resample(base, RATE, 8000) * 127) + 128).astype(np.uint8).tobytes()
    assert abs(len(decode_audio(pcm8, raw_rate=8000, raw_width=1)) / RATE - seconds) < 0.05


@pytest.mark.parametrize("data,kwargs,error", [
    (b"", {}, InvalidAudio),
    (b"this is not audio at all" * 10, {}, InvalidAudio),
    ("short", {}, InvalidAudio),
    ("ten_minutes", {}, PayloadTooLarge),
    (b"\x00\x01\x02", {"raw_rate": 16000, "raw_width": 2}, InvalidAudio),
    (b"\x00" * 9600, {"raw_rate": 16000, "raw_width": 3}, InvalidAudio),
])
def test_bad_audio_is_a_clear_error(data, kwargs, error):
    if data == "short":
        data = _encode(np.zeros(1600, np.float32), RATE, "WAV", "PCM_16")  # 0.1 s
    elif data == "ten_minutes":
        data = _encode(np.zeros(8000 * 600, np.float32), 8000, "WAV", "PCM_16")
    with pytest.raises(error):
        decode_audio(data, **kwargs)


def test_pocketsphinx_grammar_mode_hears_english_answers(tts):
    from models.registry import create_model

    asr = create_model("asr-pocketsphinx-en")
    answers = ["yes", "no", "I confirm", "I agree", "I do not agree"]
    hits = 0
    for voice in ("f2", "m1", "m3"):
        for text in answers:
            out = asr.predict(AsrInput(audio=_say(tts, text, "en", voice, 150), mode="grammar", phrases=answers))
            hits += out.text == text.lower()
    assert hits >= 10, hits  # measured 12/15 on espeak-ng voices: synthetic speech is hard for this model
    with pytest.raises(InvalidInput, match="dictionary"):
        asr.predict(AsrInput(audio=_say(tts, "yes", "en"), mode="grammar", phrases=["yes", "qzxv"]))
    free = asr.predict(AsrInput(audio=_say(tts, "yes I understand the risks", "en", "f2", 150)))
    assert free.language == "en" and "yes" in free.text and free.segments


def test_mandarin_keyword_model_on_unseen_voices(tts, keyword_asr):
    """Held-out voice variants (never used in training), every answer of the vocabulary."""
    assert keyword_asr.card.metrics["heldout_accuracy"] >= 0.85
    hits = 0
    for voice in corpus.HELD_OUT_VARIANTS:
        for phrase in corpus.ANSWERS:
            hits += keyword_asr.predict(AsrInput(audio=_say(tts, phrase, voice=voice))).text == phrase
    assert hits >= 0.8 * 2 * len(corpus.ANSWERS), hits


def test_intent_on_synthesised_answers(tts, keyword_asr):
    """Exact decisions, so a voice the recogniser was trained on (f2): how it does on unseen voices is the
    statistical test above, not a per-answer assertion."""
    models = {"zh": keyword_asr}
    for text, expected in (("我确认", "affirm"), ("是的", "affirm"), ("本人自愿", "affirm"), ("不同意", "deny"),
                           ("不是", "deny"), ("不清楚", "deny"), ("今天天气很好我们去公园", "unclear")):
        out = confirm(models, _say(tts, text, voice="f2"), mode="intent", lang="zh", question="您是否自愿开户？")
        assert out.intent == expected, (text, out.transcript, out.reason)
        assert out.passed == (expected == "affirm")
    read = confirm(models, _say(tts, corpus.READ_ALOUD[0], voice="f2"), mode="read_aloud", lang="zh",
                   expected_text=corpus.READ_ALOUD[0] + "。")
    assert read.passed and read.match_ratio == 1.0
    wrong = confirm(models, _say(tts, corpus.READ_ALOUD[1], voice="f2"), mode="read_aloud", lang="zh",
                    expected_text=corpus.READ_ALOUD[0])
    assert not wrong.passed and wrong.match_ratio < 0.8


def test_intent_rules():
    assert intent("是的")[0] == "affirm" and intent("不同意")[0] == "deny" and intent("嗯")[0] == "unclear"
    assert intent("I do not agree")[0] == "deny" and intent("yes I agree")[0] == "affirm"
    assert intent("对 不对")[0] == "unclear" and intent("")[0] == "unclear"
    assert intent("是的", confidence=0.3)[0] == "unclear"
    assert match_ratio("本人已阅读并理解风险揭示书", "本人已阅读并理解风险揭示书。") == 1.0
    assert match_ratio("本人已阅读", "") == 0.0


def test_funasr_loads_a_local_model_directory_and_never_downloads(tmp_path, monkeypatch):
    from models.registry import create_model
    from training.speech.funasr_tiny import tiny_paraformer_dir

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    missing = tmp_path / "paraformer-zh"
    with pytest.raises(ModelLoadError, match=str(missing)):
        create_model("asr-funasr", missing)
    model = create_model("asr-funasr", tiny_paraformer_dir(tmp_path / "tiny"))
    assert model.card.backend == "funasr" and {w.path for w in model.card.weights} >= {"model.pt", "config.yaml"}
    out = model.predict(AsrInput(audio=(np.random.default_rng(0).standard_normal(RATE) * 0.05).astype(np.float32)))
    assert isinstance(out.text, str) and out.language == "zh"  # random weights: the text means nothing
    (tmp_path / "tiny" / "model.pt").write_bytes(b"corrupt")
    with pytest.raises(ModelLoadError):
        create_model("asr-funasr", tmp_path / "tiny")
    assert os.environ["HTTPS_PROXY"] == "http://127.0.0.1:9"


def test_dual_recording_session_record(tmp_path, tts, keyword_asr):
    from models.digests import sm3_hex
    from models.speech.audio import encode_wav
    from models.speech.sessions import SessionStore, UnknownSession

    sessions = SessionStore(tmp_path / "s.db")
    script = [{"id": "risk", "text": "您是否已阅读并理解风险揭示书？"},
              {"id": "read", "text": "请朗读：本人已阅读并理解风险揭示书", "kind": "read_aloud",
               "expected_text": "本人已阅读并理解风险揭示书"}]
    created = sessions.create(script, "zh")
    sid = created["session_id"]
    for qid, said in (("risk", "不清楚"), ("risk", "我确认"), ("read", "本人已阅读并理解风险揭示书")):
        q, lang = sessions.question(sid, qid)
        wav = encode_wav(_say(tts, said, voice="f2"))
        res = confirm({"zh": keyword_asr}, decode_audio(wav), mode=q["kind"], lang=lang,
                      expected_text=q["expected_text"], question=q["text"])
        stored = sessions.record_answer(sid, qid, wav, {"passed": res.passed, "transcript": res.transcript})
        assert stored["audio_sm3"] == sm3_hex(wav)
    record = sessions.record(sid)
    assert record["complete"] and record["passed"]
    assert [len(q["attempts"]) for q in record["questions"]] == [2, 1]
    assert record["questions"][0]["attempts"][0]["passed"] is False  # the first answer was 不清楚
    assert len(record["record_sm3"]) == 64
    with pytest.raises(UnknownSession):
        sessions.record("nope")
    with pytest.raises(InvalidInput, match="expected_text"):
        sessions.create([{"text": "读", "kind": "read_aloud"}], "zh")
