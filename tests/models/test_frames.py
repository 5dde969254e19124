"""Smart frame selection on synthetic clips made from a real photo, and its stability evaluation."""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from evaluation.frame_stability import PERTURBATIONS, demo_clip, stability
from models.errors import PayloadTooLarge
from models.face.frames import FrameSelector, headshot_box
from models.registry import create_model
from models.video import InvalidVideo, frames_from_images, sample_frames


@pytest.fixture(scope="module")
def selector():
    return FrameSelector(create_model("face-quality-dlib"))


@pytest.fixture(scope="module")
def clip():
    return demo_clip(n_frames=12, sharp_index=7)


def write_video(frames, path, fourcc="mp4v", fps=10.0) -> bytes:
    h, w = frames[0][2].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened()
    for _, _, f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path.read_bytes()


@pytest.mark.parametrize("fourcc, suffix", [("mp4v", ".mp4"), ("MJPG", ".avi"), ("VP80", ".webm")])
def test_video_returns_the_sharp_frame(selector, clip, tmp_path, fourcc, suffix):
    data = write_video(clip, tmp_path / f"clip{suffix}", fourcc)
    frames = sample_frames(data, sample_fps=10)
    assert [i for i, _, _ in frames] == list(range(12))
    assert frames[7][1] == pytest.approx(700.0)
    out = selector.select(frames, k=3)
    assert out.frames[0].index == 7 and out.frames[0].timestamp_ms == pytest.approx(700.0)
    assert out.frames[0].passed and out.frames[0].score > out.frames[1].score
    assert len(out.frames) == 3 and out.frames_considered == 12
    best = np.asarray(Image.open(io.BytesIO(base64.b64decode(out.best_image_b64))))
    assert best.shape[0] > best.shape[1] > 150  # a portrait crop around the face
    assert out.evidence.models[0].name == "face-quality-dlib"


def test_sampling_rate_skips_frames(clip, tmp_path):
    data = write_video(clip, tmp_path / "clip.mp4", fps=10.0)
    assert [i for i, _, _ in sample_frames(data, sample_fps=5)] == [0, 2, 4, 6, 8, 10]
    assert len(sample_frames(data, sample_fps=10, max_frames=4)) == 4


def test_image_list_works_like_a_video(selector, clip):
    out = selector.select(frames_from_images([f for _, _, f in clip]), k=1)
    assert out.frames[0].index == 7


def test_frames_without_a_single_face_are_skipped(selector, clip, photo_paths):
    group = np.asarray(Image.open(photo_paths["t1"]).convert("RGB"))
    frames = [(0, 0.0, group), (1, 200.0, np.zeros((240, 320, 3), np.uint8)), clip[7]]
    out = selector.select(frames, k=3)
    assert out.frames_with_one_face == 1 and [f.index for f in out.frames] == [7]
    empty = selector.select(frames[:2], k=3)
    assert empty.frames == [] and empty.best_image_b64 is None


@pytest.mark.parametrize("data, error", [
    (b"", InvalidVideo), (b"definitely not a video" * 100, InvalidVideo), (b"\0" * 2048, InvalidVideo)])
def test_bad_video_bytes(data, error):
    with pytest.raises(error):
        sample_frames(data)


def test_oversized_video():
    with pytest.raises(PayloadTooLarge):
        sample_frames(b"\0" * 2048, max_bytes=1024)


def test_empty_image_list():
    with pytest.raises(InvalidVideo):
        frames_from_images([])


def test_headshot_box_stays_inside_the_image():
    assert headshot_box((10, 10, 110, 110), 200, 150) == (0, 0, 150, 150)
    x1, y1, x2, y2 = headshot_box((400, 300, 500, 400), 1000, 1000)
    assert x2 - x1 == 180 and abs((y2 - y1) - 225) <= 1  # 1.8 x face width, 1.25 x that high


def test_stability_evaluation(selector, clip):
    def pick(frames):
        out = selector.select(frames, k=1)
        return out.frames[0].index if out.frames else None

    report = stability(pick, clip, trials=1, seed=1)
    assert report["reference_index"] == 7
    assert set(report["same_frame_rate"]) == set(PERTURBATIONS)
    assert report["same_frame_rate"]["reencode_jpeg"] == 1.0 and report["same_frame_rate"]["noise"] == 1.0
    assert 0.0 <= report["same_frame_rate_overall"] <= 1.0


def test_stability_counts_misses():
    frames = demo_clip(n_frames=4, sharp_index=2)
    calls = iter([2, 0, 2, 3, 1])  # reference 2, then: miss (0), hit, hit (±1), hit (±1)
    report = stability(lambda fs: next(calls), frames, trials=1, tolerance=1)
    assert report["same_frame_rate"] == {"reencode_jpeg": 0.0, "brightness_shift": 1.0, "dropped_frames": 1.0,
                                         "noise": 1.0}
    assert report["same_frame_rate_overall"] == 0.75
