"""Face-quality latency per image and frame-selection cost per second of video, in-process and
through Ray Serve over HTTP (one client).

    .venv/bin/python bench/face_quality.py --requests 20

Inputs: Grace Hopper (512x600 JPEG, shipped with matplotlib) for quality; a 4-second 10 fps
512x600 mp4 made from the same photo (evaluation.frame_stability.demo_clip), sampled at 5 fps, for
frame selection.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from pathlib import Path

import cv2
import httpx
from PIL import Image
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import local_serve, timed  # noqa: E402

console = Console(stderr=True)
CLIP_SECONDS, CLIP_FPS, SAMPLE_FPS = 4, 10, 5.0


def _clip_mp4() -> bytes:
    from evaluation.frame_stability import demo_clip

    frames = demo_clip(n_frames=CLIP_SECONDS * CLIP_FPS, sharp_index=23)
    h, w = frames[0][2].shape[:2]
    path = Path(tempfile.mkdtemp()) / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), CLIP_FPS, (w, h))
    for _, _, f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description="face quality and frame selection latency")
    parser.add_argument("--requests", type=int, default=20, help="quality requests per setting")
    parser.add_argument("--videos", type=int, default=3, help="frame-selection requests per setting")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()

    from evaluation.pairs import _package_file
    from models.face.frames import FrameSelector
    from models.face.types import QualityInput
    from models.imageio import decode_image
    from models.registry import create_model
    from models.video import sample_frames

    buf = io.BytesIO()
    Image.open(_package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")).save(buf, format="JPEG")
    photo, video = buf.getvalue(), _clip_mp4()
    quality = create_model("face-quality-dlib")
    selector = FrameSelector(quality)

    def quality_local():
        quality.predict(QualityInput(image=decode_image(photo)))

    def frames_local():
        selector.select(sample_frames(video, sample_fps=SAMPLE_FPS), k=3)

    results = {}
    with Progress(console=console, transient=True) as bar:
        quality_local()
        results["quality in-process"] = timed(quality_local, args.requests, 1, "quality", bar)
        results["select-frames in-process"] = timed(frames_local, args.videos, 1, "frames", bar)
    with local_serve(console) as base, httpx.Client(timeout=120) as client, \
            Progress(console=console, transient=True) as bar:
        def quality_http():
            client.post(f"{base}/v1/face/quality", files={"image": ("g.jpg", photo, "image/jpeg")}).raise_for_status()

        def frames_http():
            client.post(f"{base}/v1/face/select-frames",
                        files={"video": ("c.mp4", video, "video/mp4")}).raise_for_status()

        quality_http()
        results["quality serve-http"] = timed(quality_http, args.requests, 1, "quality http", bar)
        results["select-frames serve-http"] = timed(frames_http, args.videos, 1, "frames http", bar)
    frames_per_clip = CLIP_SECONDS * SAMPLE_FPS
    for key in ("select-frames in-process", "select-frames serve-http"):
        r = results[key]
        r["ms_per_video_second"] = round(r["p50_ms"] / CLIP_SECONDS, 1)
        r["ms_per_frame"] = round(r["p50_ms"] / frames_per_clip, 1)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table("setting", "n", "p50 ms", "p99 ms", "per video s (ms)", "per frame (ms)",
                  title=f"quality per 512x600 image; frame selection on a {CLIP_SECONDS} s clip at {SAMPLE_FPS:g} fps")
    for name, r in results.items():
        table.add_row(name, str(r["n"]), str(r["p50_ms"]), str(r["p99_ms"]), str(r.get("ms_per_video_second", "")),
                      str(r.get("ms_per_frame", "")))
    Console().print(table)


if __name__ == "__main__":
    main()
