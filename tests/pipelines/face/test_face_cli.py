"""`veid face` and `veid capture` command lines."""

from __future__ import annotations

import json

from click.testing import CliRunner

from pipelines.capture_cli import capture
from pipelines.face_cli import face

MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"


def test_face_json_output(shared_data):
    faces = shared_data / "faces"
    result = CliRunner().invoke(face, [str(faces / "B001260_1.jpg"), str(faces / "B001260_2.jpg"), "--json",
                                       "--document-portrait"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["match"] is True and 0.0 <= doc["score"] <= doc["threshold"] and doc["distance"] >= 0.0
    assert 0.5 < doc["probability"] <= 1.0
    names = {c["name"] for c in doc["checks"]}
    assert {"face.a.quality.sharpness", "liveness.selfie_is_document_portrait"} <= names


def test_capture_make_and_verify_then_replay_is_rejected(tmp_path, shared_data):
    runner = CliRunner()
    key, reg, out = tmp_path / "client.key", tmp_path / "clients.json", tmp_path / "upload.json"
    params = tmp_path / "params.yaml"
    params.write_text(f"provenance:\n  max_age_s: 300.0\n  max_clock_skew_s: 30.0\n  salt_db: {tmp_path / 'salts.sqlite'}\n")
    assert runner.invoke(capture, ["client-key", str(key), "--client-id", "cli-test", "--registry", str(reg)]).exit_code == 0
    photo = shared_data / "faces" / "B001260_1.jpg"
    made = runner.invoke(capture, ["make", f"selfie={photo}", "--client-id", "cli-test", "--client-key", str(key),
                                   "--device", "model=test", "--out", str(out)], env={"VEID_MNEMONIC": MNEMONIC})
    assert made.exit_code == 0, made.output
    first = runner.invoke(capture, ["verify", str(out), "--registry", str(reg), "--params", str(params)])
    assert first.exit_code == 0 and "accepted" in first.output
    again = runner.invoke(capture, ["verify", str(out), "--registry", str(reg), "--params", str(params)])
    assert again.exit_code == 1 and "salt_reused" in again.output
