"""SM2 / SM3 / SM4 primitives (GB/T 32918, GB/T 32905, GB/T 32907).

SM3 and SM4 come from ``cryptography`` (OpenSSL). SM2 uses gmssl 3.2.2's curve arithmetic with its pitfalls
fixed here (DESIGN.md §4), each proved by a test:

- nonces and private keys come from ``secrets`` (gmssl's default nonce uses ``random``);
- public keys are set after construction (gmssl's ``public_key.lstrip("04")`` eats leading 0/4 digits of x);
- the signer's distinguishing ID is a parameter (``sign_with_sm3`` hard-codes ``1234567812345678``);
- decryption checks C3 (gmssl returns whatever C2 decrypts to);
- key generation exists (gmssl has none);
- verification rejects r, s outside [1, n-1].

Signatures are DER (SEQUENCE of two INTEGERs) as OpenSSL writes them; public keys export as
SubjectPublicKeyInfo PEM that ``openssl pkeyutl -pubin`` reads.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

DEFAULT_ID = b"1234567812345678"
_CURVE = {
    "p": "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF",
    "a": "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
    "b": "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
    "n": "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123",
    "gx": "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
    "gy": "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
}
N = int(_CURVE["n"], 16)
P = int(_CURVE["p"], 16)


class SignatureError(ValueError):
    """A signature or ciphertext that does not verify; the message says why."""


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _crypt(private_hex: str = "", public_xy: str = ""):
    from gmssl import sm2

    table = {"n": _CURVE["n"].lower(), "p": _CURVE["p"].lower(), "g": (_CURVE["gx"] + _CURVE["gy"]).lower(),
             "a": _CURVE["a"].lower(), "b": _CURVE["b"].lower()}
    c = sm2.CryptSM2(private_key=private_hex, public_key="", ecc_table=table)
    c.public_key = public_xy  # set after construction: the constructor's lstrip("04") corrupts some keys
    return c


def _mult(k: int, point_xy: str) -> str:
    """k * point, as 128 hex digits x||y (gmssl's Jacobian arithmetic)."""
    return _crypt()._kg(k, point_xy)


_G = (_CURVE["gx"] + _CURVE["gy"]).lower()


@dataclass(frozen=True)
class PublicKey:
    x: int
    y: int

    @property
    def xy_hex(self) -> str:
        return f"{self.x:064x}{self.y:064x}"

    def point_bytes(self) -> bytes:
        """Uncompressed point 04 || x || y (65 bytes)."""
        return b"\x04" + self.x.to_bytes(32, "big") + self.y.to_bytes(32, "big")

    @classmethod
    def from_point(cls, data: bytes) -> PublicKey:
        if len(data) != 65 or data[0] != 4:
            raise ValueError("expected an uncompressed SM2 point (65 bytes starting with 04)")
        key = cls(int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:], "big"))
        if not key.on_curve():
            raise ValueError("the point is not on the SM2 curve")
        return key

    def on_curve(self) -> bool:
        a, b = int(_CURVE["a"], 16), int(_CURVE["b"], 16)
        return (self.y * self.y - (self.x ** 3 + a * self.x + b)) % P == 0

    def pem(self) -> str:
        return _pem("PUBLIC KEY", spki_der(self))

    @classmethod
    def from_pem(cls, text: str) -> PublicKey:
        return cls.from_point(spki_point(_unpem(text, "PUBLIC KEY")))


def generate_private_key() -> int:
    """A private key d in [1, n-2] from the operating system's CSPRNG."""
    return secrets.randbelow(N - 2) + 1


def public_key(d: int) -> PublicKey:
    xy = _mult(d, _G)
    return PublicKey(int(xy[:64], 16), int(xy[64:], 16))


def z_value(key: PublicKey, user_id: bytes = DEFAULT_ID) -> bytes:
    """Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A) (GB/T 32918.2 §5.5)."""
    if len(user_id) * 8 > 0xFFFF:
        raise ValueError("user ID too long")
    parts = [(len(user_id) * 8).to_bytes(2, "big"), user_id]
    parts += [bytes.fromhex(_CURVE[k]) for k in ("a", "b", "gx", "gy")]
    parts += [key.x.to_bytes(32, "big"), key.y.to_bytes(32, "big")]
    return sm3(b"".join(parts))


def _e(message: bytes, key: PublicKey, user_id: bytes) -> bytes:
    return sm3(z_value(key, user_id) + message)


def sign(d: int, message: bytes, user_id: bytes = DEFAULT_ID) -> bytes:
    """DER-encoded SM2 signature of ``message`` (SM3 with the signer's Z value)."""
    key = public_key(d)
    e = _e(message, key, user_id)
    c = _crypt(f"{d:064x}", key.xy_hex)
    while True:
        k = secrets.randbelow(N - 1) + 1
        rs = c.sign(e, f"{k:064x}")
        if rs is not None:  # gmssl returns None for the rare r = 0 / r + k = n / s = 0 cases: retry
            return encode_dss_signature(int(rs[:64], 16), int(rs[64:], 16))


def verify(key: PublicKey, message: bytes, signature: bytes, user_id: bytes = DEFAULT_ID) -> None:
    """Raise :class:`SignatureError` unless ``signature`` (DER) is valid for ``message``."""
    try:
        r, s = decode_dss_signature(signature)
    except ValueError as exc:
        raise SignatureError("the signature is not a DER SEQUENCE of two INTEGERs") from exc
    if not (1 <= r < N and 1 <= s < N):
        raise SignatureError("r or s outside [1, n-1]")
    c = _crypt("", key.xy_hex)
    if not c.verify(f"{r:064x}{s:064x}", _e(message, key, user_id)):
        raise SignatureError("the SM2 signature does not match the content and the signer's public key")


def _kdf(z: bytes, klen: int) -> bytes:
    out, ct = b"", 1
    while len(out) < klen:
        out += sm3(z + ct.to_bytes(4, "big"))
        ct += 1
    return out[:klen]


def encrypt(key: PublicKey, message: bytes) -> bytes:
    """SM2 public-key encryption, C1 || C3 || C2 (GB/T 32918.4, current byte order)."""
    while True:
        k = secrets.randbelow(N - 1) + 1
        c1 = _mult(k, _G)
        x2y2 = bytes.fromhex(_mult(k, key.xy_hex))
        t = _kdf(x2y2, len(message))
        if any(t):
            break
    c2 = bytes(a ^ b for a, b in zip(message, t, strict=True))
    c3 = sm3(x2y2[:32] + message + x2y2[32:])
    return b"\x04" + bytes.fromhex(c1) + c3 + c2


def decrypt(d: int, ciphertext: bytes) -> bytes:
    """Inverse of :func:`encrypt`; checks C3 (a tampered ciphertext raises :class:`SignatureError`)."""
    if len(ciphertext) < 97 or ciphertext[0] != 4:
        raise SignatureError("not an SM2 ciphertext (C1 || C3 || C2)")
    c1 = PublicKey.from_point(ciphertext[:65])
    c3, c2 = ciphertext[65:97], ciphertext[97:]
    x2y2 = bytes.fromhex(_mult(d, c1.xy_hex))
    t = _kdf(x2y2, len(c2))
    message = bytes(a ^ b for a, b in zip(c2, t, strict=True))
    if not hmac.compare_digest(sm3(x2y2[:32] + message + x2y2[32:]), c3):
        raise SignatureError("SM2 ciphertext integrity check (C3) failed: wrong key or altered ciphertext")
    return message


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """SM4-GCM: nonce (12) || ciphertext || tag (16)."""
    nonce = secrets.token_bytes(12)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    body = enc.update(plaintext) + enc.finalize()
    return nonce + body + enc.tag


def sm4_gcm_decrypt(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    from cryptography.exceptions import InvalidTag

    if len(blob) < 28:
        raise SignatureError("SM4-GCM ciphertext too short")
    dec = Cipher(algorithms.SM4(key), modes.GCM(blob[:12], blob[-16:])).decryptor()
    dec.authenticate_additional_data(aad)
    try:
        return dec.update(blob[12:-16]) + dec.finalize()
    except InvalidTag as exc:
        raise SignatureError("SM4-GCM authentication failed: wrong key or altered ciphertext") from exc


# --- ASN.1 for SubjectPublicKeyInfo with the SM2 curve ---------------------------------------------

_OID_EC = bytes.fromhex("06072a8648ce3d0201")  # 1.2.840.10045.2.1 id-ecPublicKey
_OID_SM2 = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301 sm2p256v1


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    length = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes(
        (n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + body


def spki_der(key: PublicKey) -> bytes:
    algorithm = _tlv(0x30, _OID_EC + _OID_SM2)
    return _tlv(0x30, algorithm + _tlv(0x03, b"\x00" + key.point_bytes()))


def _read(data: bytes, i: int) -> tuple[int, bytes, int]:
    tag, n = data[i], data[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i:i + k], "big")
        i += k
    return tag, data[i:i + n], i + n


def spki_point(der: bytes) -> bytes:
    """The EC point of a SubjectPublicKeyInfo, after checking it names the SM2 curve."""
    try:
        tag, body, _ = _read(der, 0)
        _, algorithm, i = _read(body, 0)
        tag2, bits, _ = _read(body, i)
    except IndexError as exc:
        raise ValueError("not a DER SubjectPublicKeyInfo") from exc
    if tag != 0x30 or tag2 != 0x03 or _OID_SM2 not in algorithm:
        raise ValueError("not an SM2 public key (curve 1.2.156.10197.1.301)")
    return bits[1:]


def _pem(label: str, der: bytes) -> str:
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _unpem(text: str, label: str) -> bytes:
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if begin not in text or end not in text:
        raise ValueError(f"not a PEM {label}")
    return base64.b64decode("".join(text.split(begin, 1)[1].split(end, 1)[0].split()))


def private_key_from_pem(text: str) -> int:
    """d of an OpenSSL SM2 private key (PKCS#8 'PRIVATE KEY' or SEC1 'EC PRIVATE KEY'), for interop tests and
    key import into the keystore."""
    label = "EC PRIVATE KEY" if "BEGIN EC PRIVATE KEY" in text else "PRIVATE KEY"
    der = _unpem(text, label)
    if label == "PRIVATE KEY":  # PKCS#8: SEQUENCE { version, algorithm, OCTET STRING { ECPrivateKey } }
        _, body, _ = _read(der, 0)
        _, _, i = _read(body, 0)
        _, algorithm, i = _read(body, i)
        if _OID_SM2 not in algorithm:
            raise ValueError("not an SM2 private key")
        _, der, _ = _read(body, i)
    _, body, _ = _read(der, 0)  # ECPrivateKey: SEQUENCE { version, OCTET STRING d, ... }
    _, _, i = _read(body, 0)
    _, d, _ = _read(body, i)
    return int.from_bytes(d, "big")
