"""``veid capture``: build and verify signed capture uploads from image files, as a mobile client would."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from veid.errors import InputError


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


@click.group(name="capture")
def capture() -> None:
    """Signed capture uploads: a client key, an account key, fresh salt and timestamp."""


@capture.command(name="client-key")
@click.argument("key_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--client-id", required=True, help="Identifier of the capture client in the registry.")
@click.option("--registry", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also approve the client in this JSON registry file.")
def client_key(key_file: Path, client_id: str, registry: Path | None) -> None:
    """Create a capture client's Ed25519 key in KEY_FILE (hex seed, mode 600); optionally approve it."""
    from attest.keys import Ed25519Key
    from pipelines.provenance.registry import ApprovedClient, JsonFileClientRegistry

    if key_file.exists():
        raise InputError(f"{key_file} exists; refusing to overwrite a key")
    key = Ed25519Key.generate()
    _write_atomic(key_file, key.private_key_bytes.hex().encode() + b"\n", 0o600)
    if registry is not None:
        reg = JsonFileClientRegistry(registry)
        reg.add(ApprovedClient(client_id, key.public_key_bytes, client_id))
        reg.save()
    click.echo(f"client {client_id}: public key {key.public_key_bytes.hex()}")


@capture.command(name="make")
@click.argument("items", nargs=-1, required=True)
@click.option("--client-id", required=True)
@click.option("--client-key", "client_key_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File with the client's Ed25519 seed in hex.")
@click.option("--mnemonic-env", default="VEID_MNEMONIC", show_default=True,
              help="Environment variable holding the user's BIP39 mnemonic (never a command-line argument).")
@click.option("--device", multiple=True, help="Device attribute KEY=VALUE (model, os, install_id ...).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def make(items: tuple[str, ...], client_id: str, client_key_file: Path, mnemonic_env: str,
         device: tuple[str, ...], out: Path) -> None:
    """Sign ITEMS (NAME=PATH, e.g. selfie=me.jpg document_front=id.jpg) into the upload file OUT."""
    from attest.keys import AccountKey, Ed25519Key
    from pipelines.provenance.capture import CaptureItem, CaptureSigner, device_fingerprint, media_type_of

    mnemonic = os.environ.get(mnemonic_env)
    if not mnemonic:
        raise InputError(f"set the user's mnemonic in the environment variable {mnemonic_env}")
    try:
        seed = bytes.fromhex(client_key_file.read_text().strip())
    except ValueError as exc:
        raise InputError(f"{client_key_file}: not a hex Ed25519 seed") from exc
    parsed = []
    for spec in items:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise InputError(f"item {spec!r} must be NAME=PATH")
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        parsed.append(CaptureItem(name, media_type_of(data), data))
    attrs = dict(d.partition("=")[::2] for d in device) or {"device": "veid-cli"}
    signer = CaptureSigner(client_id, Ed25519Key.from_bytes(seed), device_fingerprint(attrs))
    account = AccountKey.from_mnemonic(mnemonic)
    upload = signer.sign(tuple(parsed), account)
    _write_atomic(out, upload.to_json().encode("utf-8"))
    click.echo(f"wrote {out}: {len(parsed)} item(s), user {account.address}, payload {upload.payload_sha256.hex()[:16]}...")


@capture.command(name="verify")
@click.argument("upload_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--registry", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--params", type=click.Path(dir_okay=False, path_type=Path), default=None)
def verify(upload_file: Path, registry: Path, params: Path | None) -> None:
    """Verify UPLOAD_FILE against the approved-client REGISTRY; claims its salt on success (exit 1 on rejection)."""
    from pipelines.provenance.capture import CaptureUpload
    from pipelines.provenance.registry import JsonFileClientRegistry
    from pipelines.provenance.salt_store import SaltStore
    from pipelines.provenance.verify import ProvenanceConfig, ProvenanceVerifier
    from veid.config import DEFAULT_PARAMS, load_section

    cfg = load_section(params or DEFAULT_PARAMS, "provenance", ProvenanceConfig)
    upload = CaptureUpload.from_json(upload_file.read_bytes())
    result = ProvenanceVerifier(cfg, JsonFileClientRegistry(registry), SaltStore(cfg.salt_db)).verify(upload)
    if result.accepted:
        click.echo("accepted")
        return
    click.echo(f"rejected: {result.failure.value}: {result.reason}")
    raise SystemExit(1)
