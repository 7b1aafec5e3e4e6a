"""`veid synth`: clear errors for bad arguments, a tiny successful run, help text."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from veid.cli import cli


def _run(*args: str):
    return CliRunner().invoke(cli, ["synth", *args])


def test_n_must_be_positive(tmp_path: Path) -> None:
    result = _run("--n", "0", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "--n" in result.output and "at least 1" in result.output
    result = _run("--n", "many", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "'many' is not a valid integer" in result.output


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = _run("--n", "1", "--out", str(target))
    assert result.exit_code == 2 and "is a file" in result.output


def test_non_empty_out_needs_force(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("x")
    result = _run("--n", "1", "--out", str(tmp_path))
    assert result.exit_code == 2 and "not empty" in result.output and "--force" in result.output


def test_missing_required_options() -> None:
    result = _run("--n", "1")
    assert result.exit_code == 2 and "--out" in result.output


def test_bad_params_file_names_the_key(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("synth:\n  workers: two\n")
    result = _run("--n", "1", "--out", str(tmp_path / "o"), "--params", str(params))
    assert result.exit_code == 1 and "synth.workers" in result.output


def test_tiny_run_and_force(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = _run("--n", "2", "--seed", "3", "--out", str(out), "--workers", "1", "--quiet")
    assert result.exit_code == 0, result.output
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["000000", "000001"]
    first = (out / "manifest.jsonl").read_bytes()
    result = _run("--n", "2", "--seed", "3", "--out", str(out), "--workers", "1", "--quiet", "--force")
    assert result.exit_code == 0 and (out / "manifest.jsonl").read_bytes() == first


def test_help_describes_outputs() -> None:
    result = _run("--help")
    assert result.exit_code == 0 and "manifest.jsonl" in result.output and "--seed" in result.output
