"""Case inputs and outputs (photos, audio, documents) on disk under ``$VERISERVE_HOME/cases/<case id>/``,
encrypted with SM4-GCM under the keystore's data key and addressed by name; the SM3 of the plain bytes is kept
in the case record."""

from __future__ import annotations

import os
import re
from pathlib import Path

from workflow.errors import InvalidInput
from workflow.signing import sm
from workflow.signing.keystore import Keystore

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


class BlobStore:
    def __init__(self, root: str | Path | None = None, keystore: Keystore | None = None) -> None:
        self.root = Path(root or Path(os.environ.get("VERISERVE_HOME", "var")).absolute() / "cases")
        self.keys = keystore or Keystore()

    def _path(self, case_id: str, name: str) -> Path:
        if not _NAME.match(name) or not _NAME.match(case_id):
            raise InvalidInput(f"bad blob name {case_id}/{name}")
        return self.root / case_id / name

    def put(self, case_id: str, name: str, data: bytes) -> dict:
        version, key = self.keys.data_key()
        path = self._path(case_id, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(version.to_bytes(4, "big") + sm.sm4_gcm_encrypt(key, data, aad=f"{case_id}/{name}".encode()))
        os.replace(tmp, path)  # atomic: a killed process leaves the old blob or the new one
        return {"name": name, "sm3": sm.sm3(data).hex(), "bytes": len(data)}

    def get(self, case_id: str, name: str) -> bytes:
        path = self._path(case_id, name)
        if not path.is_file():
            raise InvalidInput(f"case {case_id} has no {name!r}")
        raw = path.read_bytes()
        _, key = self.keys.data_key(int.from_bytes(raw[:4], "big"))
        return sm.sm4_gcm_decrypt(key, raw[4:], aad=f"{case_id}/{name}".encode())

    def exists(self, case_id: str, name: str) -> bool:
        return self._path(case_id, name).is_file()
