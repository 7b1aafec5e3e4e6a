"""`veid vc` and `veid keys`: exit codes, byte-exact W3C issuance, secrets never printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from attest.keys_cli import keys
from attest.vc_cli import vc

ABANDON = "abandon " * 11 + "about"


@pytest.fixture()
def params(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text("attest:\n  keystore_kdf: {log2_n: 10, r: 8, p: 1}\n")
    return path


def test_vc_issue_reproduces_w3c_and_verify_exit_codes(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "w3c-eddsa-jcs-2022"
    out = tmp_path / "signed.json"
    runner = CliRunner()
    result = runner.invoke(vc, ["issue", str(root / "unsigned.json"), "--key-pair", str(root / "keyPair.json"),
                                "--created", "2023-02-24T23:36:38Z", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == json.loads((root / "eddsa-jcs-2022" / "signedJCS.json").read_text())
    ok = runner.invoke(vc, ["verify", str(out)])
    assert ok.exit_code == 0 and ok.output.startswith("valid:")
    doc = json.loads(out.read_text())
    doc["credentialSubject"]["alumniOf"] = "Elsewhere"
    out.write_text(json.dumps(doc))
    bad = runner.invoke(vc, ["verify", str(out)])
    assert bad.exit_code == 1 and "invalid:" in bad.output
    out.write_text("{not json")
    assert runner.invoke(vc, ["verify", str(out)]).exit_code == 2
    assert runner.invoke(vc, ["verify", str(tmp_path / "missing.json")]).exit_code == 2


def test_keys_create_list_show_never_print_secrets(tmp_path: Path, params: Path) -> None:
    runner = CliRunner(env={"VEID_KEYSTORE_PASSPHRASE": "pw"})
    ks = str(tmp_path / "ks")
    result = runner.invoke(keys, ["create", "val", "--recover", "--keystore", ks, "--params", str(params)],
                           input=ABANDON + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "virtengine19rl4cm2hmr8afy4kldpxz3fka4jguq0a6mvv5p" in result.output
    assert "abandon" not in result.output
    result = runner.invoke(keys, ["create", "issuer", "--type", "ed25519", "--keystore", ks, "--params", str(params)])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(keys, ["list", "--keystore", ks])
    assert listing.exit_code == 0 and "val" in listing.output and "issuer" in listing.output
    shown = runner.invoke(keys, ["show", "val", "--address", "--keystore", ks])
    assert shown.output.strip() == "virtengine19rl4cm2hmr8afy4kldpxz3fka4jguq0a6mvv5p"
    from attest.config import KdfConfig
    from attest.keystore import Keystore

    store = Keystore(ks, KdfConfig(log2_n=10))
    secrets = [store.load(n, "pw").private_key_bytes.hex() for n in ("val", "issuer")]
    everything = result.output + listing.output + shown.output + runner.invoke(keys, ["show", "issuer", "--keystore", ks]).output
    assert not any(s in everything for s in secrets)


def test_vc_issue_from_keystore_and_attestation(tmp_path: Path, params: Path) -> None:
    from attest.attestation import Attestation, commit_evidence, sign_attestation
    from attest.keys import AccountKey

    runner = CliRunner(env={"VEID_KEYSTORE_PASSPHRASE": "pw"})
    ks = str(tmp_path / "ks")
    assert runner.invoke(keys, ["create", "issuer", "--type", "ed25519", "--keystore", ks,
                                "--params", str(params)]).exit_code == 0  # fmt: skip
    validator = AccountKey.generate()
    att = Attestation(validator.address, AccountKey.generate().address, 64, "basic", (), (), (), "0.1.0",
                      commit_evidence([b"\x07" * 32], []), 1_700_000_000, 1_700_086_400)  # fmt: skip
    att_file = tmp_path / "att.json"
    att_file.write_text(json.dumps(sign_attestation(att, validator).to_dict()))
    out = tmp_path / "vc.json"
    result = runner.invoke(vc, ["issue", str(att_file), "--key", "issuer", "--keystore", ks, "--params", str(params),
                                "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    ok = runner.invoke(vc, ["verify", str(out)])
    assert ok.exit_code == 0 and "1 validator attestation(s) verified" in ok.output
    doc = json.loads(out.read_text())
    doc["evidence"][0]["signedAttestation"]["attestation"]["score"] = 99
    out.write_text(json.dumps(doc))
    assert runner.invoke(vc, ["verify", str(out)]).exit_code == 1
