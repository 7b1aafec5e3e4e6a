"""Tests for `veid score FEATURES.json [--json]`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipelines.score_cli import score
from training.synth_scopes import scope_histories
from veid.errors import InputError


@pytest.fixture()
def features_file(tmp_path):
    rec = scope_histories(["cli-0001"], ["test"], seed=3)[0]
    path = tmp_path / "features.json"
    path.write_text(json.dumps(rec["scopes"]))
    return path


def test_json_output(features_file) -> None:
    res = CliRunner().invoke(score, [str(features_file), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert 0 <= out["score"] <= 100 and isinstance(out["score"], int)
    assert {"tier", "reasons", "missing", "model", "borderline"} <= set(out)
    assert len(out["model"]["sha256"]) == 64


def test_text_output(features_file) -> None:
    res = CliRunner().invoke(score, [str(features_file)])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("score: ") and "reasons" in res.output and "model: veid-scorer" in res.output


def test_bad_input(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"email": {"verified": "yes"}}')
    res = CliRunner().invoke(score, [str(bad)])
    assert res.exit_code != 0 and isinstance(res.exception, InputError)
    notjson = tmp_path / "x.json"
    notjson.write_text("{")
    assert isinstance(CliRunner().invoke(score, [str(notjson)]).exception, InputError)
