"""Liveness latency: passive per image and action liveness per second of video, in-process and through
Ray Serve over HTTP (one client).

    .venv/bin/python bench/liveness.py --requests 20

Inputs: Grace Hopper (512x600 JPEG, matplotlib) for passive liveness; a 3-second 10 fps MJPG clip of the
astronaut photo (scikit-image) with a blink and a head turn edited in, for action liveness.
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
import numpy as np
from PIL import Image
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import local_serve, timed  # noqa: E402

console = Console(stderr=True)
SECONDS, FPS = 3, 10


def _inputs():
    from evaluation.face_edits import close_eyes, turn
    from evaluation.pairs import _package_file
    from models.face.dlib_backend import DlibFaces, wheel_weights_dir

    photo = np.asarray(Image.open(_package_file("skimage", "data/astronaut.png")).convert("RGB"))
    face = DlibFaces(wheel_weights_dir()).detect(photo)[0]
    cx = (face.box[0] + face.box[2]) / 2
    closed, left = close_eyes(photo, np.asarray(face.landmarks)), turn(photo, "right", 0.5, cx)
    frames = [photo] * 8 + [closed] * 2 + [photo] * 8 + [left] * 4 + [photo] * 8
    path = Path(tempfile.mkdtemp()) / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (photo.shape[1], photo.shape[0]))
    for f in frames[: SECONDS * FPS]:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    buf = io.BytesIO()  # passive: Grace Hopper (the astronaut has a second, false HOG hit at margin 0)
    Image.open(_package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")).save(buf, format="JPEG")
    return buf.getvalue(), path.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description="liveness latency")
    parser.add_argument("--requests", type=int, default=20, help="passive requests per setting")
    parser.add_argument("--videos", type=int, default=3, help="action requests per setting")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from models.imageio import decode_image
    from models.liveness.types import ActionInput, PassiveInput
    from models.registry import create_model
    from models.video import sample_frames

    photo, video = _inputs()
    results = {}
    with local_serve(console) as base:
        from serving import store

        passive, _ = store.load(store.configure(), "liveness-passive")
        action = create_model("liveness-action-dlib")

        def passive_local():
            passive.predict(PassiveInput(images=[decode_image(photo)]))

        def action_local():
            frames = sample_frames(video, sample_fps=FPS)
            action.predict(ActionInput(images=[f for _, _, f in frames], timestamps_ms=[t for _, t, _ in frames],
                                       actions=["blink", "turn_left"]))

        with httpx.Client(timeout=120) as client, Progress(console=console, transient=True) as bar:
            def passive_http():
                client.post(f"{base}/v1/liveness/passive", files={"image": ("a.jpg", photo, "image/jpeg")}
                            ).raise_for_status()

            def action_http():
                cid = client.post(f"{base}/v1/liveness/challenge").json()["challenge_id"]
                client.post(f"{base}/v1/liveness/action", files={"video": ("c.avi", video, "video/x-msvideo")},
                            data={"challenge_id": cid}).raise_for_status()

            passive_local()
            passive_http()
            results["passive in-process"] = timed(passive_local, args.requests, 1, "passive", bar)
            results["passive serve-http"] = timed(passive_http, args.requests, 1, "passive http", bar)
            results["action in-process"] = timed(action_local, args.videos, 1, "action", bar)
            results["action serve-http"] = timed(action_http, args.videos, 1, "action http", bar)
    for key in ("action in-process", "action serve-http"):
        results[key]["ms_per_video_second"] = round(results[key]["p50_ms"] / SECONDS, 1)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table("setting", "n", "p50 ms", "p99 ms", "per video s (ms)",
                  title=f"passive per 512x600 image; action on a {SECONDS} s {FPS} fps clip")
    for name, r in results.items():
        table.add_row(name, str(r["n"]), str(r["p50_ms"]), str(r["p99_ms"]), str(r.get("ms_per_video_second", "")))
    Console().print(table)


if __name__ == "__main__":
    main()
