"""OCR latency per document: the raw rapidocr call, our whole pipeline in-process (localise, orient,
read, parse, check), and the same through Ray Serve over HTTP (one client), with the ratios.

    .venv/bin/python bench/ocr.py --requests 10

Inputs: one rendered ID card front and one VAT invoice, photographed upright (1164x848 / 1632x1088 JPEG),
and the same ID card turned 180° (the pipeline then reads twice to find the orientation).
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


def _inputs() -> dict[str, tuple[str, bytes]]:
    from evaluation.documents.render import render
    from models.imageio import encode_jpeg

    out = {}
    for label, doc_type, rotate in (("id card", "id_card_front", 0), ("vat invoice", "vat_invoice", 0),
                                    ("id card turned 180°", "id_card_front", 180)):
        sample = render(doc_type, 1, rotate=rotate, perspective=0.03, blur=0.0, noise=2.0, jpeg=90)
        out[label] = (doc_type, encode_jpeg(sample.image, quality=90))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="OCR latency: raw rapidocr vs pipeline vs Serve")
    parser.add_argument("--requests", type=int, default=10, help="requests per setting")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from models.imageio import decode_image
    from models.ocr.types import OcrInput
    from models.registry import create_model

    docs = _inputs()
    results: dict[str, dict] = {}
    with local_serve(console) as base:
        model = create_model("ocr-rapidocr")  # same settings as serving/config.yaml (1 onnxruntime thread)
        raw = model.engine._ocr  # the rapidocr object itself, for the baseline
        with httpx.Client(timeout=120) as client, Progress(console=console, transient=True) as bar:
            for label, (doc_type, data) in docs.items():
                image = decode_image(data)

                def raw_call(image=image):
                    raw(image[:, :, ::-1].copy(), use_cls=False)

                def pipeline(data=data, doc_type=doc_type):
                    model.predict(OcrInput(image=decode_image(data), doc_type=doc_type))

                def http(data=data, doc_type=doc_type):
                    client.post(f"{base}/v1/ocr/{doc_type}", files={"image": ("d.jpg", data, "image/jpeg")}
                                ).raise_for_status()

                for fn in (raw_call, pipeline, http):  # warm-up
                    fn()
                results[label] = {"raw rapidocr": timed(raw_call, args.requests, 1, f"{label}: raw", bar),
                                  "pipeline": timed(pipeline, args.requests, 1, f"{label}: pipeline", bar),
                                  "serve http": timed(http, args.requests, 1, f"{label}: http", bar)}
                r = results[label]
                r["ratios"] = {"pipeline/raw": round(r["pipeline"]["p50_ms"] / r["raw rapidocr"]["p50_ms"], 2),
                               "serve/pipeline": round(r["serve http"]["p50_ms"] / r["pipeline"]["p50_ms"], 2)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table("document", "setting", "n", "p50 ms", "p99 ms", "ratio", title="OCR latency, 1 client, 2 CPUs")
    for label, r in results.items():
        table.add_row(label, "raw rapidocr", str(r["raw rapidocr"]["n"]), str(r["raw rapidocr"]["p50_ms"]),
                      str(r["raw rapidocr"]["p99_ms"]), "1.00")
        table.add_row("", "pipeline in-process", str(r["pipeline"]["n"]), str(r["pipeline"]["p50_ms"]),
                      str(r["pipeline"]["p99_ms"]), f"{r['ratios']['pipeline/raw']:.2f} × raw")
        table.add_row("", "Serve over HTTP", str(r["serve http"]["n"]), str(r["serve http"]["p50_ms"]),
                      str(r["serve http"]["p99_ms"]), f"{r['ratios']['serve/pipeline']:.2f} × pipeline")
    Console().print(table)


if __name__ == "__main__":
    main()
