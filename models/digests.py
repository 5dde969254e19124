"""SHA-256 and SM3 (GB/T 32905) file digests used to pin model weights."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import hashes

_CHUNK = 1 << 20


def file_digests(path: str | Path) -> tuple[str, str]:
    """Return ``(sha256_hex, sm3_hex)`` of a file, read once in 1 MiB chunks."""
    sha = hashlib.sha256()
    sm3 = hashes.Hash(hashes.SM3())
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
            sm3.update(chunk)
    return sha.hexdigest(), sm3.finalize().hex()


def sm3_hex(data: bytes) -> str:
    """SM3 digest of bytes, as lowercase hex."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()
