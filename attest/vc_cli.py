"""``veid vc``: issue and verify W3C Verifiable Credentials secured with eddsa-jcs-2022 proofs."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from attest.attestation import SignedAttestation, verify_attestation
from attest.cli_common import default_keystore, keystore_option, params_option, load_config, passphrase
from attest.keys import Ed25519Key
from attest.keystore import Keystore
from attest.multibase import decode_ed25519_private, decode_ed25519_public
from attest.vc import add_proof, attestation_credential, did_key_verification_method, verify_proof
from veid.errors import CryptoError, InputError


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.FileError(str(path), hint=exc.strerror) from exc
    except ValueError as exc:
        raise click.BadParameter(f"{path} is not JSON: {exc}") from exc


@click.group()
def vc() -> None:
    """Issue and verify W3C Verifiable Credentials 2.0 (Data Integrity, eddsa-jcs-2022)."""


@vc.command("issue")
@click.argument("input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key-pair", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON with publicKeyMultibase/privateKeyMultibase (W3C Multikey test-vector format).")
@click.option("--key", "key_name", help="Name of an ed25519 key in the keystore.")
@click.option("--created", help="Proof creation time, e.g. 2023-02-24T23:36:38Z (default: now).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@keystore_option
@params_option
def issue(input_file: Path, key_pair: Path | None, key_name: str | None, created: str | None, out: Path | None,
          keystore_dir: Path | None, params_path: Path) -> None:  # fmt: skip
    """Secure INPUT_FILE with an eddsa-jcs-2022 proof.

    INPUT_FILE is an unsecured credential, or a signed attestation (attestation, public_key,
    signature), which is first turned into a VeidIdentityAttestation credential whose issuer
    is the signing key's did:key.
    """
    if (key_pair is None) == (key_name is None):
        raise click.UsageError("give exactly one of --key-pair FILE or --key NAME")
    if key_pair is not None:
        pair = _read_json(key_pair)
        try:
            key = Ed25519Key.from_bytes(decode_ed25519_private(pair["privateKeyMultibase"]))
        except (KeyError, TypeError, CryptoError) as exc:
            raise click.BadParameter(f"{key_pair}: not an Ed25519 Multikey pair ({exc})") from exc
        if "publicKeyMultibase" in pair and decode_ed25519_public(pair["publicKeyMultibase"]) != key.public_key_bytes:
            raise click.BadParameter(f"{key_pair}: public and private keys do not match")
    else:
        store = Keystore(keystore_dir or default_keystore(), load_config(params_path).keystore_kdf)
        if store.info(key_name).kind != "ed25519":
            raise click.BadParameter(f"key {key_name!r} is not an ed25519 key")
        key = store.load(key_name, passphrase(confirm=False))
    document = _read_json(input_file)
    if isinstance(document, dict) and set(document) == {"attestation", "public_key", "signature"}:
        document = attestation_credential(SignedAttestation.from_dict(document),
                                          did_key_verification_method(key.public_key_bytes).split("#")[0])  # fmt: skip
    secured = add_proof(document, key, created=created)
    text = json.dumps(secured, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", prefix=".tmp-vc-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)
    click.echo(f"wrote {out}", err=True)


@vc.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--public-key", "public_key_mb", help="Issuer's Ed25519 key (z6Mk...); default: resolve did:key.")
def verify(file: Path, public_key_mb: str | None) -> None:
    """Verify the eddsa-jcs-2022 proof of FILE. Exit status 0 only if the proof is valid.

    An embedded validator attestation (evidence of type VeidValidatorAttestation) must also
    carry a valid secp256k1 signature by its issuer.
    """
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        click.echo(f"invalid: cannot read {file} as JSON ({exc})", err=True)
        sys.exit(2)
    try:
        public_key = decode_ed25519_public(public_key_mb) if public_key_mb else None
        verify_proof(document, public_key)
        checked = _verify_embedded_attestations(document)
    except (CryptoError, InputError) as exc:
        click.echo(f"invalid: {exc}", err=True)
        sys.exit(1)
    method = document["proof"].get("verificationMethod", "?")
    suffix = f"; {checked} validator attestation(s) verified" if checked else ""
    click.echo(f"valid: eddsa-jcs-2022 proof by {method}{suffix}")


def _verify_embedded_attestations(document: dict[str, Any]) -> int:
    evidence = document.get("evidence", [])
    count = 0
    for item in evidence if isinstance(evidence, list) else []:
        if isinstance(item, dict) and "signedAttestation" in item:
            signed = SignedAttestation.from_dict(item["signedAttestation"])
            verify_attestation(signed, signed.public_key)
            subject = document.get("credentialSubject", {})
            if subject.get("account") != signed.attestation.subject or subject.get("score") != signed.attestation.score:
                raise CryptoError("credential subject does not match the embedded attestation")
            count += 1
    return count
