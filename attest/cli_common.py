"""Shared pieces of the ``veid keys`` and ``veid vc`` commands: keystore location, passphrase, params."""

from __future__ import annotations

import os
from pathlib import Path

import click

from attest.config import AttestConfig
from veid.config import DEFAULT_PARAMS, load_section

PASSPHRASE_ENV = "VEID_KEYSTORE_PASSPHRASE"
KEYSTORE_ENV = "VEID_KEYSTORE"


def default_keystore() -> Path:
    """``$VEID_KEYSTORE`` or ``~/.veid/keystore``."""
    return Path(os.environ.get(KEYSTORE_ENV) or Path.home() / ".veid" / "keystore")


def keystore_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--keystore", "keystore_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help=f"Keystore directory (default ${KEYSTORE_ENV} or ~/.veid/keystore).",
    )(f)  # fmt: skip


def params_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--params", "params_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_PARAMS,
        show_default=True, help="params.yaml whose 'attest' section is read.",
    )(f)  # fmt: skip


def load_config(params_path: Path) -> AttestConfig:
    return load_section(params_path, "attest", AttestConfig)


def passphrase(confirm: bool) -> str:
    """The keystore passphrase: ``$VEID_KEYSTORE_PASSPHRASE`` or a hidden prompt."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    return click.prompt("Keystore passphrase", hide_input=True, confirmation_prompt=confirm)
