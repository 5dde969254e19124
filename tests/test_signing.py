"""SM2/SM3/SM4: standard vectors, the gmssl pitfalls fixed (each shown failing in gmssl first), OpenSSL 3
interop both ways, the keystore and field encryption with key rotation."""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from workflow.signing import pii, sm
from workflow.signing.keystore import KeyNotFound, Keystore, KeystoreLocked

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl CLI is not installed")


def test_sm3_standard_vectors():  # GB/T 32905-2016 appendix A
    assert sm.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm.sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_sm4_standard_vectors():  # GB/T 32907-2016 appendix A: one block, and 1,000,000 encryptions
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    block = enc.update(key)
    assert block.hex() == "681edf34d206965e86b3e94f536e4246"
    for _ in range(999_999):
        block = enc.update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sign_and_verify_with_user_id():
    d = sm.generate_private_key()
    key = sm.public_key(d)
    sig = sm.sign(d, b"contract", b"ALICE123@YAHOO.COM")
    sm.verify(key, b"contract", sig, b"ALICE123@YAHOO.COM")
    with pytest.raises(sm.SignatureError, match="does not match"):
        sm.verify(key, b"contract", sig)  # default ID: a different Z value
    with pytest.raises(sm.SignatureError, match="does not match"):
        sm.verify(key, b"contrac7", sig, b"ALICE123@YAHOO.COM")
    with pytest.raises(sm.SignatureError, match="DER"):
        sm.verify(key, b"contract", b"\x30\x00garbage")
    with pytest.raises(sm.SignatureError, match="outside"):
        sm.verify(key, b"contract", encode_dss_signature(sm.N, 1))


def test_pitfall_nonce_is_not_from_random(monkeypatch):
    from gmssl import sm2

    d = sm.generate_private_key()
    key = sm.public_key(d)
    gm = sm2.CryptSM2(private_key=f"{d:064x}", public_key=key.xy_hex)
    random.seed(7)
    first = gm.sign_with_sm3(b"m")
    random.seed(7)
    assert gm.sign_with_sm3(b"m") == first  # gmssl: the nonce repeats when random's state does
    random.seed(7)
    a = sm.sign(d, b"m")
    random.seed(7)
    b = sm.sign(d, b"m")
    assert a != b  # ours: secrets


def test_pitfall_public_keys_with_leading_0_or_4():
    from gmssl import sm2

    while True:  # a key whose x starts with 0 or 4 (about 1 in 8)
        d = sm.generate_private_key()
        key = sm.public_key(d)
        if key.xy_hex[0] in "04":
            break
    assert sm2.CryptSM2(private_key="", public_key="04" + key.xy_hex).public_key != key.xy_hex  # gmssl corrupts it
    sm.verify(key, b"m", sm.sign(d, b"m"))  # ours does not


def test_pitfall_decrypt_checks_c3():
    from gmssl import sm2

    d = sm.generate_private_key()
    key = sm.public_key(d)
    ct = bytearray(sm.encrypt(key, b"4201********1234 data key"))
    assert sm.decrypt(d, bytes(ct)) == b"4201********1234 data key"
    ct[-1] ^= 1
    gm = sm2.CryptSM2(private_key=f"{d:064x}", public_key=key.xy_hex, mode=1)
    assert gm.decrypt(bytes(ct[1:])) != b"4201********1234 data key"  # gmssl: altered plaintext, no error
    with pytest.raises(sm.SignatureError, match="C3"):
        sm.decrypt(d, bytes(ct))


def test_pitfall_key_generation():
    keys = {sm.generate_private_key() for _ in range(20)}
    assert len(keys) == 20 and all(1 <= k < sm.N - 1 for k in keys)
    assert all(sm.public_key(k).on_curve() for k in list(keys)[:3])
    with pytest.raises(ValueError, match="not on the SM2 curve"):
        sm.PublicKey.from_point(b"\x04" + b"\x01" * 64)


def _openssl(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@needs_openssl
def test_openssl_verifies_our_signature_with_the_api_md_command(tmp_path):
    d = sm.generate_private_key()
    (tmp_path / "PUB.pem").write_text(sm.public_key(d).pem())
    (tmp_path / "FILE").write_bytes(b"%PDF-1.4 account contract\n" * 50)
    (tmp_path / "SIG").write_bytes(sm.sign(d, (tmp_path / "FILE").read_bytes()))
    ok = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", "PUB.pem", "-rawin", "-digest", "sm3", "-pkeyopt",
                  "distid:1234567812345678", "-in", "FILE", "-sigfile", "SIG", cwd=tmp_path)
    assert ok.returncode == 0 and "Verified Successfully" in ok.stdout
    (tmp_path / "FILE").write_bytes(b"%PDF-1.4 account contract\n" * 49)
    bad = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", "PUB.pem", "-rawin", "-digest", "sm3", "-pkeyopt",
                   "distid:1234567812345678", "-in", "FILE", "-sigfile", "SIG", cwd=tmp_path)
    assert bad.returncode != 0


@needs_openssl
def test_we_verify_openssl_signatures_and_import_its_keys(tmp_path):
    assert _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", "k.pem",
                    cwd=tmp_path).returncode == 0
    assert _openssl("pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem", cwd=tmp_path).returncode == 0
    (tmp_path / "doc.txt").write_text("风险揭示书 已阅读")
    assert _openssl("pkeyutl", "-sign", "-inkey", "k.pem", "-rawin", "-digest", "sm3", "-pkeyopt",
                    "distid:branch-4201", "-in", "doc.txt", "-out", "sig.der", cwd=tmp_path).returncode == 0
    key = sm.PublicKey.from_pem((tmp_path / "pub.pem").read_text())
    sm.verify(key, (tmp_path / "doc.txt").read_bytes(), (tmp_path / "sig.der").read_bytes(), b"branch-4201")
    store = Keystore(tmp_path / "ks.db")
    imported = store.import_pem("branch-key", (tmp_path / "k.pem").read_text())
    assert imported == key
    (tmp_path / "ours.der").write_bytes(store.sign("branch-key", b"x"))
    (tmp_path / "x").write_bytes(b"x")
    assert _openssl("pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-digest", "sm3", "-pkeyopt",
                    "distid:1234567812345678", "-in", "x", "-sigfile", "ours.der", cwd=tmp_path).returncode == 0


def test_keystore_keeps_private_keys_inside(tmp_path, monkeypatch):
    monkeypatch.delenv("VERISERVE_KEYSTORE_KEY", raising=False)
    store = Keystore(tmp_path / "ks.db")
    key = store.create("seal-4201")
    sig = store.sign("seal-4201", b"doc")
    sm.verify(store.public_key("seal-4201"), b"doc", sig)
    assert key == store.public_key("seal-4201")
    assert [r["name"] for r in store.list()] == ["seal-4201"] and len(store.list()[0]["fingerprint"]) == 32
    assert not any(n in dir(store) for n in ("private_key", "export_private", "get_private"))
    assert (tmp_path / "ks.kek").stat().st_mode & 0o077 == 0  # the development KEK is owner-only
    with pytest.raises(Exception, match="already exists"):
        store.create("seal-4201")
    with pytest.raises(KeyNotFound):
        store.sign("nope", b"doc")
    with pytest.raises(Exception, match="key name"):
        store.create("../etc/passwd")
    monkeypatch.setenv("VERISERVE_KEYSTORE_KEY", "00" * 16)  # another KEK: the stored keys stay closed
    with pytest.raises(KeystoreLocked, match="does not open"):
        Keystore(tmp_path / "ks.db").sign("seal-4201", b"doc")


def test_private_key_bytes_are_not_in_the_database(tmp_path, monkeypatch):
    monkeypatch.delenv("VERISERVE_KEYSTORE_KEY", raising=False)
    pem_dir = tmp_path / "o"
    pem_dir.mkdir()
    d = sm.generate_private_key()
    # import a known key so its bytes can be searched for
    der_key = b"\x30\x77\x02\x01\x01\x04\x20" + d.to_bytes(32, "big")
    from base64 import b64encode

    tail = bytes.fromhex("a00a06082a811ccf5501822d") + b"\xa1\x44\x03\x42\x00" + sm.public_key(d).point_bytes()
    pem = "-----BEGIN EC PRIVATE KEY-----\n" + b64encode(der_key + tail).decode() + "\n-----END EC PRIVATE KEY-----\n"
    store = Keystore(tmp_path / "ks.db")
    assert store.import_pem("k", pem) == sm.public_key(d)
    raw = (tmp_path / "ks.db").read_bytes()
    assert d.to_bytes(32, "big") not in raw and f"{d:064x}".encode() not in raw


def test_field_encryption_with_rotation(tmp_path, monkeypatch):
    monkeypatch.delenv("VERISERVE_KEYSTORE_KEY", raising=False)
    store = Keystore(tmp_path / "ks.db")
    token = pii.encrypt(store, "id_number", "420106199001011234")
    assert token.startswith("sm4:v1:") and "420106" not in token
    assert pii.decrypt(store, "id_number", token) == "420106199001011234"
    with pytest.raises(sm.SignatureError, match="authentication failed"):
        pii.decrypt(store, "phone", token)  # bound to its field
    store.rotate_data_key()
    newer = pii.reencrypt(store, "id_number", token)
    assert newer.startswith("sm4:v2:") and pii.decrypt(store, "id_number", newer) == "420106199001011234"
    assert pii.decrypt(store, "id_number", token) == "420106199001011234"  # old versions still decrypt
    assert pii.reencrypt(store, "id_number", newer) == newer
    with pytest.raises(Exception, match="token"):
        pii.decrypt(store, "id_number", "420106199001011234")
