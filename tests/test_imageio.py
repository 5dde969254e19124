"""Image decoding refuses bad input with specific errors, before allocating big buffers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from models.errors import InvalidImage, PayloadTooLarge
from models.imageio import decode_image
from tests.conftest import jpeg_bytes, rgb


def test_decodes_jpeg_and_png_to_rgb(photo_paths):
    image = rgb(photo_paths["grace"])
    out = decode_image(jpeg_bytes(image))
    assert out.shape == image.shape and out.dtype == np.uint8
    rgba = Image.fromarray(image).convert("RGBA")
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")
    assert decode_image(buf.getvalue()).shape == image.shape


def test_exif_orientation_is_applied(photo_paths):
    image = Image.fromarray(rgb(photo_paths["grace"]))  # 512 wide, 600 high
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif.tobytes())
    assert decode_image(buf.getvalue()).shape[:2] == (512, 600)


@pytest.mark.parametrize("data, match", [
    (b"", "empty"),
    (b"%PDF-1.7 definitely not an image", "not a recognised image"),
])
def test_garbage_is_invalid_image(data, match):
    with pytest.raises(InvalidImage, match=match):
        decode_image(data)


def test_truncated_jpeg_is_invalid_image(photo_paths):
    data = jpeg_bytes(rgb(photo_paths["grace"]))
    with pytest.raises(InvalidImage, match="corrupt or truncated"):
        decode_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding(bomb_png):
    assert len(bomb_png) < 2_000_000
    with pytest.raises(PayloadTooLarge, match="exceed the limit of 40000000 pixels"):
        decode_image(bomb_png)
    with pytest.raises(PayloadTooLarge, match="6000x6000 = 36000000 pixels"):  # under PIL's own limit
        buf = io.BytesIO()
        Image.new("L", (6000, 6000)).save(buf, format="PNG")
        decode_image(buf.getvalue(), max_pixels=10_000_000)


def test_oversized_file_is_refused():
    with pytest.raises(PayloadTooLarge, match="exceeds the limit"):
        decode_image(b"\xff" * 2048, max_bytes=1024)


def test_tiny_image_is_invalid():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    with pytest.raises(InvalidImage, match="too small"):
        decode_image(buf.getvalue())
