"""SM4 encryption of personal data fields (ID numbers, bank cards, phones) with key versions and rotation.

A token is ``sm4:v<version>:<base64 nonce||ciphertext||tag>``; the field name is authenticated data, so a
token moved to another field does not decrypt. After :meth:`Keystore.rotate_data_key`, :func:`reencrypt`
moves old tokens to the newest version.
"""

from __future__ import annotations

import base64
import re

from workflow.errors import InvalidInput
from workflow.signing import sm
from workflow.signing.keystore import Keystore

_TOKEN = re.compile(r"^sm4:v(\d+):([A-Za-z0-9+/=]+)$")


def encrypt(store: Keystore, field: str, value: str) -> str:
    version, key = store.data_key()
    blob = sm.sm4_gcm_encrypt(key, value.encode(), aad=field.encode())
    return f"sm4:v{version}:{base64.b64encode(blob).decode()}"


def version_of(token: str) -> int:
    m = _TOKEN.match(token)
    if not m:
        raise InvalidInput("not an encrypted field token (sm4:v<version>:<base64>)")
    return int(m.group(1))


def decrypt(store: Keystore, field: str, token: str) -> str:
    version = version_of(token)
    _, key = store.data_key(version)
    return sm.sm4_gcm_decrypt(key, base64.b64decode(_TOKEN.match(token).group(2)), aad=field.encode()).decode()


def reencrypt(store: Keystore, field: str, token: str) -> str:
    """The same value under the newest data-key version (unchanged if it already is)."""
    newest, _ = store.data_key()
    return token if version_of(token) == newest else encrypt(store, field, decrypt(store, field, token))
