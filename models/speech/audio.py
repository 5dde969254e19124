"""Safe audio decoding: bytes in any common container -> mono float32 at 16 kHz, or a clear error.

WAV, FLAC, OGG/Vorbis/Opus, MP3, AIFF and friends are read by libsndfile (bundled in the ``soundfile``
wheel); headerless PCM needs its sample rate and width declared. Duration limits are checked from the
header before the samples are decoded, so a ten-hour file is refused without reading it.
"""

from __future__ import annotations

import io
import math

import numpy as np

from models.errors import InvalidInput, PayloadTooLarge

RATE = 16_000
MAX_AUDIO_BYTES = 50 * 1024 * 1024
MAX_SECONDS = 120.0
MIN_SECONDS = 0.2


class InvalidAudio(InvalidInput):
    """Bytes that are not decodable audio, or audio outside the accepted limits."""

    code = "invalid_audio"


def resample(samples: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Polyphase resampling (anti-aliased) between integer rates."""
    if rate == target:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = math.gcd(int(rate), int(target))
    return resample_poly(samples, target // g, int(rate) // g).astype(np.float32)


def _check_duration(frames: int, rate: int, field: str, max_seconds: float, min_seconds: float) -> None:
    seconds = frames / rate if rate else 0.0
    if frames == 0:
        raise InvalidAudio(f"{field}: no audio samples (empty recording)")
    if seconds > max_seconds:
        raise PayloadTooLarge(f"{field}: {seconds:.1f} s of audio exceeds the limit of {max_seconds:.0f} s")
    if seconds < min_seconds:
        raise InvalidAudio(f"{field}: {seconds:.2f} s of audio is too short (at least {min_seconds} s)")


def decode_audio(data: bytes, *, field: str = "audio", raw_rate: int | None = None, raw_width: int = 2,
                 max_bytes: int = MAX_AUDIO_BYTES, max_seconds: float = MAX_SECONDS,
                 min_seconds: float = MIN_SECONDS) -> np.ndarray:
    """Decode to mono float32 in [-1, 1] at 16 kHz. ``raw_rate`` marks ``data`` as headerless little-endian
    PCM of ``raw_width`` bytes per sample (1 = unsigned 8-bit, 2 = int16, 4 = int32)."""
    if not data:
        raise InvalidAudio(f"{field}: empty file (0 bytes)")
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"{field}: {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    if raw_rate is not None:
        if not 4_000 <= int(raw_rate) <= 192_000:
            raise InvalidAudio(f"{field}: sample rate {raw_rate} Hz is outside 4000-192000")
        dtype = {1: np.uint8, 2: np.dtype("<i2"), 4: np.dtype("<i4")}.get(int(raw_width))
        if dtype is None:
            raise InvalidAudio(f"{field}: sample width {raw_width} bytes is not 1, 2 or 4")
        if len(data) % int(raw_width):
            raise InvalidAudio(f"{field}: {len(data)} bytes is not a whole number of {raw_width}-byte samples")
        pcm = np.frombuffer(data, dtype)
        _check_duration(len(pcm), int(raw_rate), field, max_seconds, min_seconds)
        scale = {1: 128.0, 2: 32768.0, 4: 2147483648.0}[int(raw_width)]
        x = (pcm.astype(np.float32) - (128.0 if raw_width == 1 else 0.0)) / scale
        return resample(x, int(raw_rate))
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            _check_duration(f.frames, f.samplerate, field, max_seconds, min_seconds)
            rate = f.samplerate
            x = f.read(dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as exc:
        raise InvalidAudio(f"{field}: not a readable audio file (WAV, FLAC, OGG, MP3, AIFF, or raw PCM with "
                           f"sample_rate): {exc}") from exc
    if x.size == 0:
        raise InvalidAudio(f"{field}: no audio samples (empty recording)")
    return resample(x.mean(axis=1), rate)


def encode_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    """16-bit mono WAV bytes."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1, 1), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()
