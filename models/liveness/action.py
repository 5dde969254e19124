"""Challenge-response action liveness (``liveness-action-dlib``), seed clause 8.4a.

Landmarks are tracked over the frames; each requested action must appear, in the requested order:
- ``blink``: eye aspect ratio falls below 0.7 x the customer's open-eye baseline (max 0.25), then reopens;
- ``turn_left`` / ``turn_right``: yaw moves >= 15° from the baseline — from the customer's point of
  view in an unmirrored camera image, so turning left moves the nose to the image's right;
- ``nod``: pitch drops >= 8° below the baseline (chin down), then comes back up by half of that;
- ``open_mouth``: mouth aspect ratio above 0.45.
The same person must be present throughout (embedding cosine of sampled frames vs the first), and
the most frontal, open-eyed, sharp frame is returned for face match.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import ClassVar

import numpy as np

from models.base import Model, ModelCard
from models.errors import InvalidInput
from models.evidence import Evidence, ModelRef
from models.face import backends, measures
from models.face.frames import headshot_box
from models.imageio import check_array, encode_jpeg
from models.liveness.challenges import ACTIONS
from models.liveness.types import ActionInput, ActionOutput, ActionResult
from models.registry import register_model

MAX_FRAMES = 300


def _track(faces_backend, images: list[np.ndarray]) -> list[dict | None]:
    """Per frame: landmarks-derived signals of the largest face, or None when no face is found."""
    out: list[dict | None] = []
    for image in images:
        faces = faces_backend.detect(image)
        if not faces:
            out.append(None)
            continue
        f = faces[0]
        pts = np.asarray(f.landmarks, dtype=np.float64)
        pose = measures.head_pose_deg(f.keypoints, (image.shape[1], image.shape[0])) or {}
        x1, y1, x2, y2 = (max(0, int(v)) for v in f.box)
        gray = measures.luminance(image[y1:y2, x1:x2]) if x2 > x1 and y2 > y1 else np.zeros((4, 4))
        out.append({"face": f, "ear": min(measures.eye_aspect_ratio(pts[36:42]),
                                          measures.eye_aspect_ratio(pts[42:48])),
                    "mar": measures.mouth_aspect_ratio(pts[60:68]), "yaw": pose.get("yaw_deg", 0.0),
                    "pitch": pose.get("pitch_deg", 0.0), "sharpness": measures.sharpness(gray), "faces": len(faces)})
    return out


class ActionDetector:
    """Finds actions in a track; thresholds in degrees and aspect ratios (see the module docstring)."""

    def __init__(self, *, turn_deg: float = 15.0, nod_deg: float = 8.0, blink_ratio: float = 0.7,
                 blink_max_ear: float = 0.25, mouth_mar: float = 0.45) -> None:
        self.turn_deg, self.nod_deg = turn_deg, nod_deg
        self.blink_ratio, self.blink_max_ear, self.mouth_mar = blink_ratio, blink_max_ear, mouth_mar

    @staticmethod
    def baseline(track: list[dict]) -> dict[str, float]:
        """Median yaw/pitch of the first frames and the open-eye EAR (75th percentile)."""
        head = track[: max(3, len(track) // 4)]
        return {"yaw": float(np.median([t["yaw"] for t in head])),
                "pitch": float(np.median([t["pitch"] for t in head])),
                "ear": float(np.percentile([t["ear"] for t in track], 75))}

    def find(self, action: str, track: list[tuple[int, dict]], base: dict, start: int) -> tuple[int, float] | None:
        """(position in ``track``, peak signal) of the first occurrence at or after ``start``."""
        closed = min(self.blink_max_ear, self.blink_ratio * base["ear"])
        for i in range(start, len(track)):
            t = track[i][1]
            if action == "turn_left" and t["yaw"] - base["yaw"] >= self.turn_deg:
                return i, t["yaw"] - base["yaw"]
            if action == "turn_right" and base["yaw"] - t["yaw"] >= self.turn_deg:
                return i, t["yaw"] - base["yaw"]
            if action == "open_mouth" and t["mar"] >= self.mouth_mar:
                return i, t["mar"]
            rest = track[i + 1:]
            # a blink needs the eyes to open again; a nod needs the head to come back up
            if action == "blink" and t["ear"] < closed and any(u["ear"] >= closed for _, u in rest):
                return i, t["ear"]
            if (action == "nod" and base["pitch"] - t["pitch"] >= self.nod_deg
                    and any(base["pitch"] - u["pitch"] <= self.nod_deg / 2 for _, u in rest)):
                return i, t["pitch"] - base["pitch"]
        return None


@register_model
class ActionLiveness(Model[ActionInput, ActionOutput]):
    """Config: ``same_person`` (cosine, default 0.9), ``min_face_fraction`` (share of frames that must
    show a face, default 0.6), plus :class:`ActionDetector` thresholds under ``detector``."""

    name: ClassVar[str] = "liveness-action-dlib"
    input_type = ActionInput
    output_type = ActionOutput

    def default_path(self) -> Path:
        return backends.default_dir("dlib")

    def default_card(self, path: Path) -> ModelCard:
        card = backends.card_for(name=self.name, task="liveness-action", backend="dlib", path=path,
                                 config={"landmarks": 68})
        return card.model_copy(update={"family": "liveness", "intended_use": "challenge-response liveness of "
                                       "a cooperative customer on video: blink, head turns, nod, mouth"})

    def load(self, path: str | Path) -> None:
        card = self.resolve_card(path)
        self.faces = backends.open_backend("dlib", "face-match", Path(path), {"landmarks": 68})
        self.detector = ActionDetector(**self.config.get("detector", {}))
        self.card = card

    def predict(self, inp: ActionInput) -> ActionOutput:
        if not inp.images:
            raise InvalidInput("frames: need at least one frame")
        if len(inp.images) > MAX_FRAMES:
            raise InvalidInput(f"frames: at most {MAX_FRAMES} per request")
        if len(inp.timestamps_ms) != len(inp.images):
            raise InvalidInput("timestamps_ms: one per frame")
        unknown = [a for a in inp.actions if a not in ACTIONS]
        if not inp.actions or unknown:
            raise InvalidInput(f"actions: expected some of {', '.join(ACTIONS)}; got {inp.actions}")
        images = [check_array(im, field=f"frames[{i}]") for i, im in enumerate(inp.images)]
        t0 = time.perf_counter()
        raw = _track(self.faces, images)
        track = [(i, t) for i, t in enumerate(raw) if t is not None]
        t1 = time.perf_counter()
        reasons: list[str] = []
        results: list[ActionResult] = []
        min_fraction = float(self.config.get("min_face_fraction", 0.6))
        if len(track) < max(2, min_fraction * len(images)):
            reasons.append(f"a face was found in only {len(track)} of {len(images)} frames")
        base = ActionDetector.baseline([t for _, t in track]) if track else None
        pos = 0
        for action in inp.actions:
            hit = self.detector.find(action, track, base, pos) if base else None
            if hit is None:
                results.append(ActionResult(action=action, detected=False))
                reasons.append(f"{action.replace('_', ' ')} not seen" + (" after the previous action" if pos else ""))
                continue
            k, peak = hit
            frame = track[k][0]
            results.append(ActionResult(action=action, detected=True, at_ms=inp.timestamps_ms[frame], frame=frame,
                                        peak=round(float(peak), 4)))
            pos = k + 1
        if any(t["faces"] > 1 for _, t in track):
            reasons.append("more than one face appeared during the challenge")
        same, min_sim = self._same_person(images, track)
        if not same:
            reasons.append(f"the face changed during the challenge (similarity {min_sim:.2f})")
        best, best_b64 = self._best_frame(images, track, base)
        t2 = time.perf_counter()
        live = not reasons
        return ActionOutput(
            live=live, actions=results, same_person=same, min_similarity=min_sim, frames_with_face=len(track),
            frames_total=len(images), best_frame=best, best_image_b64=best_b64,
            reasons=reasons or ["every requested action was performed, in order, by the same person"],
            evidence=Evidence(models=[ModelRef.of(self.card)],
                              scores={"actions_detected": sum(r.detected for r in results),
                                      "actions_requested": len(results), "min_similarity": min_sim or 0.0},
                              reasons=reasons or ["all actions detected in order"],
                              timings_ms={"track": round((t1 - t0) * 1000, 2), "verify": round((t2 - t1) * 1000, 2)}),
        )

    def _same_person(self, images, track) -> tuple[bool, float | None]:
        if len(track) < 2:
            return len(track) == 1, None
        picks = sorted({0, len(track) - 1, *np.linspace(0, len(track) - 1, 4).astype(int).tolist()})
        embs = [self.faces.embed(images[track[p][0]], track[p][1]["face"]) for p in picks]
        sims = [float(embs[0] @ e) for e in embs[1:]]
        min_sim = round(min(sims), 4)
        return min_sim >= float(self.config.get("same_person", 0.9)), min_sim

    @staticmethod
    def _best_frame(images, track, base) -> tuple[int | None, str | None]:
        if not track:
            return None, None

        def goodness(t):
            frontal = abs(t["yaw"] - base["yaw"]) + abs(t["pitch"] - base["pitch"])
            return (t["ear"] >= 0.8 * base["ear"], -frontal + 0.05 * min(t["sharpness"], 200))

        i, t = max(track, key=lambda it: goodness(it[1]))
        image = images[i]
        x1, y1, x2, y2 = headshot_box(t["face"].box, image.shape[1], image.shape[0])
        return i, base64.b64encode(encode_jpeg(np.ascontiguousarray(image[y1:y2, x1:x2]), 92)).decode()
