"""Fixtures for the serving tests: one synthetic identity, a capture app, validator homes, a free loopback port."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from attest.keys import AccountKey, Ed25519Key, X25519Key
from pipelines.provenance.registry import ApprovedClient, InMemoryClientRegistry, JsonFileClientRegistry
from serving.client import CaptureApp


@dataclass(frozen=True)
class Identity:
    """One synthetic person's document photo, selfie and web scopes."""

    document: bytes
    selfie: bytes
    scopes: dict


@pytest.fixture(scope="session")
def identity(tmp_path_factory) -> Identity:
    """A genuine TD1 card with a selfie (synth seed 3, sample 000002), generated once."""
    from serving.demo import client_scopes, pick_identity
    from training.synth import generate

    out = tmp_path_factory.mktemp("synth")
    generate(out, n=3, seed=3, progress=False, force=True)
    sample, history = pick_identity(out)
    return Identity((out / sample["image"]).read_bytes(), (out / sample["selfie"]).read_bytes(), client_scopes(history))


@pytest.fixture()
def app() -> CaptureApp:
    return CaptureApp("test-app", Ed25519Key.generate())


@pytest.fixture()
def registry(app: CaptureApp) -> InMemoryClientRegistry:
    return InMemoryClientRegistry((ApprovedClient(app.client_id, app.key.public_key_bytes, "test app"),))


@pytest.fixture()
def user() -> AccountKey:
    return AccountKey.from_mnemonic(AccountKey.generate_mnemonic())


@pytest.fixture()
def validator_key() -> X25519Key:
    return X25519Key.generate()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_validator_home(root: Path, name: str = "val") -> tuple[Path, AccountKey, X25519Key]:
    """A validator home with its own account key (keys/NAME.mnemonic) and encryption key."""
    from serving.daemon import ValidatorHome
    from serving.keydir import create_encryption_key

    mnemonic = AccountKey.generate_mnemonic()
    (root / "keys").mkdir(parents=True, exist_ok=True)
    (root / "keys" / f"{name}.mnemonic").write_text(mnemonic)
    ValidatorHome(root, name, root / "chain", root / "envelopes").write()
    key = create_encryption_key(root)
    return root, AccountKey.from_mnemonic(mnemonic), key


def write_registry(path: Path, app: CaptureApp) -> Path:
    reg = JsonFileClientRegistry(path)
    reg.add(ApprovedClient(app.client_id, app.key.public_key_bytes, "test app"))
    reg.save()
    return path


def dump(obj) -> str:
    return json.dumps(obj, sort_keys=True)


@pytest.fixture()
def new_validator_home():
    """``new_validator_home(root, name) -> (home, account key, encryption key)``."""
    return make_validator_home


@pytest.fixture()
def port() -> int:
    return free_port()
