"""Video decoding for frame-based models: bytes in, sampled RGB frames out, with clear errors."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from models.errors import InvalidInput, PayloadTooLarge
from models.imageio import check_array

MAX_VIDEO_BYTES = 100 * 1024 * 1024


class InvalidVideo(InvalidInput):
    """Bytes that are not a decodable video, or a video with no frames."""

    code = "invalid_video"


def sample_frames(
    data: bytes,
    *,
    sample_fps: float = 5.0,
    max_frames: int = 150,
    max_bytes: int = MAX_VIDEO_BYTES,
    max_side_px: int = 1280,
) -> list[tuple[int, float, np.ndarray]]:
    """Decode a video (mp4, webm, avi, ... through OpenCV's FFmpeg) and keep about ``sample_fps`` frames
    per second, at most ``max_frames``. Returns ``(frame_index, timestamp_ms, rgb)`` triples; frames
    larger than ``max_side_px`` are shrunk."""
    import cv2

    if not data:
        raise InvalidVideo("video: empty file (0 bytes)")
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"video: {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    fd, path = tempfile.mkstemp(suffix=".video")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise InvalidVideo("video: not a decodable video (mp4, webm or avi expected)")
        fps = cap.get(cv2.CAP_PROP_FPS)
        fps = fps if fps and 1.0 <= fps <= 240.0 else 25.0
        step = max(1, round(fps / sample_fps)) if sample_fps > 0 else 1
        out: list[tuple[int, float, np.ndarray]] = []
        index = 0
        while len(out) < max_frames:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if index % step == 0:
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                h, w = rgb.shape[:2]
                if max(h, w) > max_side_px:
                    s = max_side_px / max(h, w)
                    rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
                out.append((index, round(index * 1000.0 / fps, 1), np.ascontiguousarray(rgb)))
            index += 1
        cap.release()
    finally:
        os.unlink(path)
    if not out:
        raise InvalidVideo("video: no decodable frames")
    return out


def frames_from_images(images: list[np.ndarray], fps: float = 5.0) -> list[tuple[int, float, np.ndarray]]:
    """Treat a list of images as a video at ``fps`` frames per second."""
    if not images:
        raise InvalidVideo("images: empty list")
    return [(i, round(i * 1000.0 / fps, 1), check_array(img, field=f"images[{i}]")) for i, img in enumerate(images)]
