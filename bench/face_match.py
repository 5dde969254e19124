"""Face-match latency: in-process vs through Ray Serve over HTTP, with 1 and 4 concurrent clients.

    .venv/bin/python bench/face_match.py --requests 40

Prints p50/p99 latency (ms) and requests/s per setting, and the Serve/in-process ratio. Inputs are
two single-face crops from insightface's t1.jpg (JPEG), sent as multipart uploads.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import sys
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import local_serve, timed  # noqa: E402

console = Console(stderr=True)


def _crops() -> tuple[bytes, bytes]:
    from models.face.types import DetectInput
    from models.registry import create_model

    pkg = Path(next(iter(importlib.util.find_spec("insightface").submodule_search_locations)))
    image = np.asarray(Image.open(pkg / "data/images/t1.jpg").convert("RGB"))
    faces = create_model("face-detect-dlib", landmarks=5).predict(DetectInput(image=image)).faces
    out = []
    for face in faces[:2]:
        x1, y1, x2, y2 = (int(v) for v in face.box)
        m = (x2 - x1) // 2
        buf = io.BytesIO()
        Image.fromarray(image[max(0, y1 - m):y2 + m, max(0, x1 - m):x2 + m]).save(buf, format="JPEG", quality=92)
        out.append(buf.getvalue())
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1].strip())
    parser.add_argument("--requests", type=int, default=40, help="requests per setting")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()

    from models.face.types import MatchInput
    from models.imageio import decode_image
    from models.registry import create_model
    id_jpeg, live_jpeg = _crops()
    model = create_model("face-match-dlib")

    def in_process():
        model.predict(MatchInput(id_image=decode_image(id_jpeg), live_image=decode_image(live_jpeg)))

    results: dict[str, dict] = {}
    with Progress(console=console, transient=True) as bar:
        in_process()  # warm-up
        for c in (1, 4):
            results[f"in-process c={c}"] = timed(in_process, args.requests, c, f"in-process x{c}", bar)

    files = {"id_image": ("id.jpg", id_jpeg, "image/jpeg"), "live_image": ("live.jpg", live_jpeg, "image/jpeg")}
    with local_serve(console) as base, httpx.Client(timeout=60, limits=httpx.Limits(max_connections=8)) as client, \
            Progress(console=console, transient=True) as bar:
        def over_http():
            r = client.post(f"{base}/v1/face/match", files=files)
            r.raise_for_status()

        over_http()  # warm-up
        for c in (1, 4):
            results[f"serve-http c={c}"] = timed(over_http, args.requests, c, f"serve http x{c}", bar)

    ratios = {f"c={c}": round(results[f"serve-http c={c}"]["p50_ms"] / results[f"in-process c={c}"]["p50_ms"], 2)
              for c in (1, 4)}
    report = {"results": results, "serve_over_in_process_p50": ratios, "cpus": os.cpu_count(),
              "requests_per_setting": args.requests}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    table = Table("setting", "n", "p50 ms", "p99 ms", "mean ms", "req/s", title="face match latency")
    for name, r in results.items():
        table.add_row(name, str(r["n"]), str(r["p50_ms"]), str(r["p99_ms"]), str(r["mean_ms"]), str(r["req_per_s"]))
    Console().print(table)
    Console().print(f"Serve/in-process p50 ratio: {ratios}  ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
