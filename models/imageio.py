"""Safe image decoding: every failure becomes :class:`InvalidImage` or :class:`PayloadTooLarge`.

Pixel count is checked from the header before any pixel is decoded, so a decompression bomb never
allocates its full size. EXIF orientation is applied, alpha is dropped, output is RGB ``uint8``.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from models.errors import InvalidImage, PayloadTooLarge

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MIN_IMAGE_SIDE_PX = 16


def decode_image(
    data: bytes,
    *,
    field: str = "image",
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, WebP, BMP, TIFF) into an RGB ``uint8`` array (H, W, 3)."""
    if not data:
        raise InvalidImage(f"{field}: empty file (0 bytes)")
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"{field}: {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise PayloadTooLarge(
                    f"{field}: {w}x{h} = {w * h} pixels exceeds the limit of {max_pixels} pixels"
                )
            if min(w, h) < MIN_IMAGE_SIDE_PX:
                raise InvalidImage(f"{field}: {w}x{h} is too small (minimum side {MIN_IMAGE_SIDE_PX} px)")
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb = img.convert("RGB")
    except (PayloadTooLarge, InvalidImage):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PayloadTooLarge(f"{field}: image dimensions exceed the limit of {max_pixels} pixels "
                              f"(decompression bomb guard)") from exc
    except UnidentifiedImageError as exc:
        raise InvalidImage(f"{field}: not a recognised image format") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt data
        raise InvalidImage(f"{field}: corrupt or truncated image ({type(exc).__name__})") from exc
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def decode_base64(value: object, *, field: str = "image") -> bytes:
    """Bytes from a base64 string (a ``data:`` URL prefix is tolerated); errors name ``<field>_b64``."""
    if not isinstance(value, str):
        raise InvalidImage(f"{field}_b64: expected a base64 string")
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidImage(f"{field}_b64: not valid base64") from exc


def check_array(image: object, *, field: str = "image") -> np.ndarray:
    """Validate an in-memory image: ``uint8`` array of shape (H, W, 3)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise InvalidImage(f"{field}: expected an RGB uint8 array of shape (H, W, 3)")
    if min(image.shape[:2]) < MIN_IMAGE_SIDE_PX:
        raise InvalidImage(f"{field}: image too small")
    return image


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
