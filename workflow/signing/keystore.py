"""A software keystore shaped like a GM/T 0018 cryptographic device: private keys are generated and used
inside it and never returned. Callers get key names, public keys and signatures.

Keys are kept in SQLite (``$VERISERVE_HOME/keystore.db``), each private key encrypted with SM4-GCM under a
key-encryption key (KEK) and bound to its name. The KEK comes from ``VERISERVE_KEYSTORE_KEY`` (32 hex digits)
or, for development, from ``$VERISERVE_HOME/keystore.kek`` created with mode 0600 on first use. In production
the same interface fronts an HSM (SDF_GenerateKeyPair_ECC, SDF_ExportSignPublicKey_ECC, SDF_InternalSign_ECC).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import sqlite3
from pathlib import Path

from workflow.errors import InvalidInput, WorkflowError
from workflow.signing import sm

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

_SCHEMA = """CREATE TABLE IF NOT EXISTS keys (
    name TEXT PRIMARY KEY, purpose TEXT NOT NULL, created TEXT NOT NULL, public_pem TEXT NOT NULL,
    wrapped BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (name TEXT PRIMARY KEY, certificate TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS data_keys (
    version INTEGER PRIMARY KEY, created TEXT NOT NULL, wrapped BLOB NOT NULL);"""


class KeyNotFound(InvalidInput):
    code = "unknown_key"


class KeystoreLocked(WorkflowError):
    """The KEK does not open the stored keys."""

    code = "keystore_locked"


def _home() -> Path:
    return Path(os.environ.get("VERISERVE_HOME", "var")).absolute()


def _kek(path: Path) -> bytes:
    env = os.environ.get("VERISERVE_KEYSTORE_KEY")
    if env:
        try:
            key = bytes.fromhex(env)
        except ValueError:
            key = b""
        if len(key) != 16:
            raise InvalidInput("VERISERVE_KEYSTORE_KEY must be 32 hex digits (an SM4 key)")
        return key
    kek_file = path.with_suffix(".kek")
    if not kek_file.exists():
        kek_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(kek_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(16))
    return bytes.fromhex(kek_file.read_text().strip())


def fingerprint(key: sm.PublicKey) -> str:
    """SM3 of the DER SubjectPublicKeyInfo, first 16 bytes in hex."""
    return sm.sm3(sm.spki_der(key))[:16].hex()


class Keystore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path or _home() / "keystore.db")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._kek = _kek(self.path)
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10.0)

    # -- key pairs ---------------------------------------------------------------------------------
    def create(self, name: str, purpose: str = "sign") -> sm.PublicKey:
        """SDF_GenerateKeyPair_ECC: a new SM2 key pair kept inside; returns the public key."""
        return self._store(name, sm.generate_private_key(), purpose)

    def import_pem(self, name: str, pem: str, purpose: str = "sign") -> sm.PublicKey:
        """Bring an existing SM2 private key (OpenSSL PEM) into the keystore; the caller should destroy its copy."""
        try:
            d = sm.private_key_from_pem(pem)
        except (ValueError, IndexError) as exc:
            raise InvalidInput(f"not an SM2 private key PEM: {exc}") from exc
        return self._store(name, d, purpose)

    def _store(self, name: str, d: int, purpose: str) -> sm.PublicKey:
        if not NAME_RE.match(name):
            raise InvalidInput(f"key name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)")
        key = sm.public_key(d)
        wrapped = sm.sm4_gcm_encrypt(self._kek, d.to_bytes(32, "big"), aad=b"veriserve-key:" + name.encode())
        try:
            with self._db() as db:
                db.execute("INSERT INTO keys VALUES (?, ?, ?, ?, ?)",
                           (name, purpose, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), key.pem(), wrapped))
        except sqlite3.IntegrityError as exc:
            raise InvalidInput(f"a key named {name!r} already exists") from exc
        return key

    def _row(self, name: str) -> tuple:
        with self._db() as db:
            row = db.execute("SELECT name, purpose, created, public_pem, wrapped FROM keys WHERE name = ?",
                             (name,)).fetchone()
        if row is None:
            raise KeyNotFound(f"no key named {name!r} in {self.path}")
        return row

    def exists(self, name: str) -> bool:
        try:
            self._row(name)
        except KeyNotFound:
            return False
        return True

    def public_key(self, name: str) -> sm.PublicKey:
        """SDF_ExportSignPublicKey_ECC."""
        return sm.PublicKey.from_pem(self._row(name)[3])

    def list(self) -> list[dict]:
        with self._db() as db:
            rows = db.execute("SELECT name, purpose, created, public_pem FROM keys ORDER BY name").fetchall()
        return [{"name": n, "purpose": p, "created": c, "fingerprint": fingerprint(sm.PublicKey.from_pem(pem))}
                for n, p, c, pem in rows]

    def sign(self, name: str, message: bytes, user_id: bytes = sm.DEFAULT_ID) -> bytes:
        """SDF_InternalSign_ECC: DER SM2 signature of ``message`` with the named key (SM3 with Z value)."""
        row = self._row(name)
        try:
            d = int.from_bytes(sm.sm4_gcm_decrypt(self._kek, row[4], aad=b"veriserve-key:" + name.encode()), "big")
        except sm.SignatureError as exc:
            raise KeystoreLocked(f"the key-encryption key does not open {name!r} (VERISERVE_KEYSTORE_KEY or "
                                 f"{self.path.with_suffix('.kek')} changed?)") from exc
        try:
            return sm.sign(d, message, user_id)
        finally:
            del d

    def decrypt(self, name: str, ciphertext: bytes) -> bytes:
        """SDF_InternalPrivateKeyOperation for SM2 decryption (e.g. unwrapping a data key sent to this key)."""
        row = self._row(name)
        d = int.from_bytes(sm.sm4_gcm_decrypt(self._kek, row[4], aad=b"veriserve-key:" + name.encode()), "big")
        return sm.decrypt(d, ciphertext)

    def save_certificate(self, name: str, certificate: dict) -> None:
        import json

        self._row(name)
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO certificates VALUES (?, ?)", (name, json.dumps(certificate)))

    def certificate(self, name: str) -> dict:
        import json

        with self._db() as db:
            row = db.execute("SELECT certificate FROM certificates WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise KeyNotFound(f"key {name!r} has no certificate (create keys with 'veriserve keys create')")
        return json.loads(row[0])

    # -- data keys for field encryption (used by workflow.signing.pii) ------------------------------
    def data_key(self, version: int | None = None) -> tuple[int, bytes]:
        """(version, SM4 key): the given version, or the newest; creates version 1 on first use."""
        with self._db() as db:
            if version is None:
                row = db.execute("SELECT version, wrapped FROM data_keys ORDER BY version DESC LIMIT 1").fetchone()
            else:
                row = db.execute("SELECT version, wrapped FROM data_keys WHERE version = ?", (version,)).fetchone()
        if row is None:
            if version is not None:
                raise KeyNotFound(f"no data key version {version}")
            return self.rotate_data_key()
        return row[0], sm.sm4_gcm_decrypt(self._kek, row[1], aad=f"veriserve-data-key:{row[0]}".encode())

    def rotate_data_key(self) -> tuple[int, bytes]:
        """Add a new newest data-key version (old versions stay, to decrypt what they encrypted)."""
        key = secrets.token_bytes(16)
        with self._db() as db:
            (latest,) = db.execute("SELECT COALESCE(MAX(version), 0) FROM data_keys").fetchone()
            version = latest + 1
            db.execute("INSERT INTO data_keys VALUES (?, ?, ?)",
                       (version, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        sm.sm4_gcm_encrypt(self._kek, key, aad=f"veriserve-data-key:{version}".encode())))
        return version, key
