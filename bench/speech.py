"""Speech latency and real-time factor per backend, in-process and through Ray Serve over HTTP, with a
load test of 1, 4 and 8 parallel streams against /v1/speech/confirm.

    .venv/bin/python bench/speech.py --requests 12

Inputs: espeak-ng clips — "我确认" (voice m6, ~1 s), "本人已阅读并理解风险揭示书" (~2.5 s) and English "yes I
confirm" (~1 s), as 16 kHz WAV uploads; TTS of a 40-character disclosure sentence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import local_serve, timed  # noqa: E402

console = Console(stderr=True)
DISCLOSURE = "证券投资存在本金损失的风险，请您在充分了解产品风险后，根据自身风险承受能力审慎决策。"


def _log(uri: str, results: dict) -> None:
    """The figures as an MLflow run ``bench speech`` in the user's store."""
    import mlflow

    from serving import store

    store.configure(uri)
    with mlflow.start_run(run_name="bench speech"):
        mlflow.log_params({"cpus": 2, "clients": "1 unless stated", "what": "latency, RTF, load through Serve"})
        for key, r in results.items():
            name = key.replace(" ", "_").replace("我确认", "wo_queren")
            if "audio_s" in r:
                for where in ("in-process", "serve"):
                    mlflow.log_metrics({f"{name}.{where}.p50_ms": r[where]["p50_ms"], f"{name}.{where}.rtf":
                                        r[where]["rtf"]})
            else:
                mlflow.log_metrics({f"{name}.p50_ms": r["p50_ms"], f"{name}.p99_ms": r["p99_ms"],
                                    f"{name}.req_per_s": r["req_per_s"]})
        mlflow.log_dict(results, "bench_speech.json")


def main() -> None:
    parser = argparse.ArgumentParser(description="speech latency, RTF and load")
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--tracking-uri", default=None, help="MLflow store for the results (default: ./var)")
    args = parser.parse_args()

    from serving import store as veriserve_store

    results_uri = veriserve_store.tracking_uri(args.tracking_uri)  # before local_serve moves VERISERVE_HOME

    from models.registry import create_model
    from models.speech.audio import RATE, decode_audio, encode_wav
    from models.speech.types import AsrInput, TtsInput

    results: dict[str, dict] = {}
    with local_serve(console) as base:
        from serving import store

        tts = create_model("tts-espeak")
        zh = store.load(store.configure(), "asr-zh")[0]
        en = create_model("asr-pocketsphinx-en")
        clips = {"zh 我确认": ("zh", encode_wav(tts.predict(TtsInput(text="我确认", voice="m6")).audio)),
                 "zh read-aloud": ("zh", encode_wav(tts.predict(TtsInput(text="本人已阅读并理解风险揭示书",
                                                                         voice="m6")).audio)),
                 "en yes I confirm": ("en", encode_wav(tts.predict(TtsInput(text="yes I confirm", lang="en",
                                                                            voice="f2")).audio))}
        with httpx.Client(timeout=120) as client, Progress(console=console, transient=True) as bar:
            def tts_local():
                tts.predict(TtsInput(text=DISCLOSURE))

            def tts_http():
                client.post(f"{base}/v1/speech/tts", json={"text": DISCLOSURE}).raise_for_status()

            tts_local()
            tts_http()
            seconds = tts.predict(TtsInput(text=DISCLOSURE)).duration_s
            results["tts disclosure"] = {"audio_s": seconds,
                                         "in-process": timed(tts_local, args.requests, 1, "tts", bar),
                                         "serve": timed(tts_http, args.requests, 1, "tts http", bar)}
            for label, (lang, wav) in clips.items():
                audio = decode_audio(wav)
                model = zh if lang == "zh" else en

                def local(audio=audio, model=model, lang=lang):
                    model.predict(AsrInput(audio=audio, mode="open"))

                def http(wav=wav, lang=lang):
                    client.post(f"{base}/v1/speech/asr", files={"audio": ("a.wav", wav, "audio/wav")},
                                data={"lang": lang}).raise_for_status()

                local()
                http()
                results[f"asr {label}"] = {"audio_s": round(len(audio) / RATE, 2),
                                           "in-process": timed(local, args.requests, 1, label, bar),
                                           "serve": timed(http, args.requests, 1, f"{label} http", bar)}
            wav = clips["zh 我确认"][1]

            def confirm_http():
                client.post(f"{base}/v1/speech/confirm", files={"audio": ("a.wav", wav, "audio/wav")},
                            data={"mode": "intent", "lang": "zh"}).raise_for_status()

            for streams in (1, 4, 8):
                results[f"load confirm x{streams}"] = timed(confirm_http, args.requests * max(1, streams // 2),
                                                            streams, f"{streams} streams", bar)
    for r in results.values():
        if "audio_s" in r:
            for where in ("in-process", "serve"):
                r[where]["rtf"] = round(r[where]["p50_ms"] / 1000 / r["audio_s"], 4)
    _log(results_uri, results)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return
    table = Table("what", "audio s", "in-process p50 ms", "RTF", "Serve p50 ms", "RTF", "Serve/in-process",
                  title="speech, 1 client unless stated, 2 CPUs")
    for key, r in results.items():
        if "audio_s" in r:
            table.add_row(key, str(r["audio_s"]), str(r["in-process"]["p50_ms"]), str(r["in-process"]["rtf"]),
                          str(r["serve"]["p50_ms"]), str(r["serve"]["rtf"]),
                          f"{r['serve']['p50_ms'] / r['in-process']['p50_ms']:.2f}")
    Console().print(table)
    load = Table("streams", "n", "p50 ms", "p99 ms", "req/s", title="load: POST /v1/speech/confirm (zh, ~1 s clip)")
    for key, r in results.items():
        if key.startswith("load"):
            load.add_row(key.split("x")[-1], str(r["n"]), str(r["p50_ms"]), str(r["p99_ms"]), str(r["req_per_s"]))
    Console().print(load)


if __name__ == "__main__":
    main()
