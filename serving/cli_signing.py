"""Signing commands of API.md: ``keys create|list|export-public``, ``sign`` and ``verify``.
Registered on the app of :mod:`serving.cli`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from serving.cli import Failure, JsonOpt, _fail, app, console
from workflow.errors import InvalidInput

keys_app = typer.Typer(help="The SM2 keystore: private keys are created and used inside it, never exported.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")
UserIdOpt = Annotated[str, typer.Option("--user-id", help="Signer's distinguishing ID in the SM2 Z value.")]


def _store():
    from workflow.signing.keystore import Keystore

    return Keystore()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{what}: cannot read {path}: {exc.strerror}") from exc


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Argument(help="Key name, e.g. seal-wuhan.")],
                subject: Annotated[str | None, typer.Option(help="Certificate subject (organisation or person); "
                                                                 "default: the key name.")] = None,
                as_json: JsonOpt = False) -> None:
    """Generate an SM2 key pair inside the keystore and issue its certificate from the local CA."""
    from workflow.signing import seal as seals
    from workflow.signing.keystore import fingerprint

    try:
        store = _store()
        key = store.create(name)
        cert = seals.issue_certificate(store, name, subject or name)
        store.save_certificate(name, cert)
    except Failure as exc:
        _fail(exc, as_json)
    out = {"name": name, "fingerprint": fingerprint(key), "subject": cert["subject"], "serial": cert["serial"],
           "not_after": cert["not_after"]}
    console.print_json(json.dumps(out, ensure_ascii=False)) if as_json else console.print(
        f"created {name} (SM2, fingerprint {out['fingerprint']}), certificate {cert['serial']} for "
        f"{cert['subject']} until {cert['not_after']}")


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """Key names, purposes and fingerprints (never private material)."""
    rows = _store().list()
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("name", "purpose", "created", "fingerprint (SM3 of the public key)")
    for r in rows:
        table.add_row(r["name"], r["purpose"], r["created"], r["fingerprint"])
    console.print(table)


@keys_app.command("export-public")
def keys_export_public(name: str,
                       out: Annotated[Path | None, typer.Option(help="Write the PEM here (default stdout).")] = None,
                       as_json: JsonOpt = False) -> None:
    """The public key as SubjectPublicKeyInfo PEM, for ``openssl pkeyutl -verify -pubin``."""
    try:
        pem = _store().public_key(name).pem()
    except Failure as exc:
        _fail(exc, as_json)
    if out:
        out.write_text(pem)
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(pem)


@app.command()
def sign(file: Annotated[Path, typer.Argument(help="File to sign (any bytes; PDFs get an e-seal record).")],
         key: Annotated[str, typer.Option(help="Keystore key name.")],
         detached: Annotated[Path | None, typer.Option(help="Write only a DER SM2 signature here (verifiable with "
                                                            "openssl pkeyutl).")] = None,
         seal_text: Annotated[str | None, typer.Option(help="Organisation name on the e-seal (default: the "
                                                            "certificate subject).")] = None,
         user_id: UserIdOpt = "1234567812345678", as_json: JsonOpt = False) -> None:
    """Sign a file inside the keystore: a detached DER signature, or a manifest FILE.sig.json with
    certificate, e-seal and timestamp."""
    from workflow.signing import documents as docs
    from workflow.signing import seal as seals

    try:
        data = _read(file, "sign")
        store = _store()
        if detached:
            detached.write_bytes(store.sign(key, data, user_id.encode()))
            out = {"file": str(file), "signature": str(detached), "key": key}
        else:
            cert = store.certificate(key)
            manifest = docs.sign_document(store, data, key=key, certificate=cert, name=file.name,
                                          seal_png=seals.seal_image(seal_text or cert["subject"]),
                                          user_id=user_id.encode())
            target = file.with_name(file.name + ".sig.json")
            target.write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
            out = {"file": str(file), "manifest": str(target), "key": key, "timestamp": manifest["timestamp"]["time"]}
    except Failure as exc:
        _fail(exc, as_json)
    console.print_json(json.dumps(out)) if as_json else console.print(
        f"signed {file} with {key}: {out.get('signature') or out['manifest']}")


@app.command()
def verify(file: Annotated[Path, typer.Argument(help="The signed file.")],
           signature: Annotated[Path | None, typer.Option(help="Detached DER signature (else FILE.sig.json).")] = None,
           key: Annotated[str | None, typer.Option(help="Keystore key for a detached signature.")] = None,
           public_key: Annotated[Path | None, typer.Option(help="PEM public key for a detached signature.")] = None,
           user_id: UserIdOpt = "1234567812345678", as_json: JsonOpt = False) -> None:
    """Verify a detached signature or a signed-document manifest; exit 1 with the reason when invalid."""
    from workflow.signing import documents as docs
    from workflow.signing import seal as seals
    from workflow.signing import sm

    try:
        data = _read(file, "verify")
        store = _store()
        if signature:
            if public_key:
                try:
                    pub = sm.PublicKey.from_pem(_read(public_key, "public key").decode())
                except ValueError as exc:
                    raise InvalidInput(f"{public_key}: {exc}") from exc
            elif key:
                pub = store.public_key(key)
            else:
                raise InvalidInput("a detached signature needs --key or --public-key")
            try:
                sm.verify(pub, data, _read(signature, "signature"), user_id.encode())
                result = docs.Verification(True, "the SM2 signature matches the file")
            except sm.SignatureError as exc:
                result = docs.Verification(False, str(exc))
        else:
            manifest_path = file.with_name(file.name + ".sig.json")
            try:
                manifest = json.loads(_read(manifest_path, "manifest"))
            except ValueError as exc:
                raise InvalidInput(f"{manifest_path}: not JSON ({exc})") from exc
            result = docs.verify(data, manifest, ca_key=store.public_key(seals.CA_KEY),
                                 tsa_key=store.public_key(seals.TSA_KEY))
    except Failure as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(json.dumps(result.__dict__, ensure_ascii=False))
    else:
        colour = "green" if result.valid else "red"
        console.print(f"[{colour}]{'valid' if result.valid else 'INVALID'}[/{colour}]: {result.reason}"
                      + (f" (signer {result.signer}, signed {result.signing_time})" if result.signing_time else ""))
    if not result.valid:
        raise typer.Exit(1)



