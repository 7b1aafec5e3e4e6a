"""``veid keys``: create and inspect keys in an encrypted keystore. Secrets are never printed."""

from __future__ import annotations

from pathlib import Path

import click

from attest.cli_common import default_keystore, keystore_option, load_config, params_option, passphrase
from attest.keys import AccountKey, Ed25519Key, MLKEM768X25519Key, X25519Key, key_id
from attest.keystore import KINDS, Keystore
from attest.multibase import encode_ed25519_public


@click.group()
def keys() -> None:
    """Create and inspect keys in an encrypted keystore (scrypt + AES-256-GCM, files 0600)."""


@keys.command("create")
@click.argument("name")
@click.option("--type", "kind", type=click.Choice(KINDS), default="secp256k1", show_default=True)
@click.option("--recover", is_flag=True, help="secp256k1 only: derive from a BIP39 mnemonic (asked, hidden).")
@click.option("--account", type=int, default=0, show_default=True, help="BIP44 account index with --recover.")
@click.option("--index", type=int, default=0, show_default=True, help="BIP44 address index with --recover.")
@keystore_option
@params_option
def create(
    name: str, kind: str, recover: bool, account: int, index: int, keystore_dir: Path | None, params_path: Path
) -> None:
    """Create (or, with --recover, restore) key NAME and print its public identity."""
    cfg = load_config(params_path)
    if recover and kind != "secp256k1":
        raise click.UsageError("--recover applies to secp256k1 account keys only")
    if recover:
        mnemonic = click.prompt("BIP39 mnemonic", hide_input=True)
        key = AccountKey.from_mnemonic(mnemonic, prefix=cfg.address_prefix, account=account, index=index)
    else:
        generators = {
            "secp256k1": lambda: AccountKey.generate(prefix=cfg.address_prefix),
            "ed25519": Ed25519Key.generate,
            "x25519": X25519Key.generate,
            "mlkem768-x25519": MLKEM768X25519Key.generate,
        }
        key = generators[kind]()
    store = Keystore(keystore_dir or default_keystore(), cfg.keystore_kdf)
    info = store.add(name, key, passphrase(confirm=True))
    click.echo(_describe(info.name, info.kind, info.public_key, info.address))


@keys.command("list")
@keystore_option
def list_keys(keystore_dir: Path | None) -> None:
    """List stored keys: name, type, key id and address."""
    store = Keystore(keystore_dir or default_keystore())
    infos = store.list()
    if not infos:
        click.echo(f"no keys in {store.directory}")
    for info in infos:
        click.echo(_describe(info.name, info.kind, info.public_key, info.address))


@keys.command("show")
@click.argument("name")
@click.option("--address", "address_only", is_flag=True, help="Print only the bech32 address (secp256k1).")
@keystore_option
def show(name: str, address_only: bool, keystore_dir: Path | None) -> None:
    """Show the public identity of key NAME (never its secret)."""
    info = Keystore(keystore_dir or default_keystore()).info(name)
    if address_only:
        if not info.address:
            raise click.UsageError(f"key {name!r} is {info.kind}; only secp256k1 keys have an address")
        click.echo(info.address)
        return
    click.echo(_describe(info.name, info.kind, info.public_key, info.address))
    if info.kind == "ed25519":
        click.echo(f"  did:key:{encode_ed25519_public(info.public_key)}")


def _describe(name: str, kind: str, public_key: bytes, address: str) -> str:
    parts = [name, kind, f"key_id={key_id(public_key)}"]
    if address:
        parts.append(address)
    if len(public_key) <= 33:
        parts.append(f"pub={public_key.hex()}")
    return "  ".join(parts)
