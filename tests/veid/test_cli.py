"""The `veid` group: help lists commands without importing them; errors are clear."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from veid.cli import COMMANDS, cli


def test_help_lists_available_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    assert "VEID" in result.output
    assert "synth" in result.output


def test_help_does_not_import_tensorflow() -> None:
    code = "import sys; from veid.cli import main; sys.argv=['veid','--help']\ntry:\n main()\nexcept SystemExit: pass\nprint('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


def test_unknown_command_is_an_error() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_every_registered_command_has_help_text() -> None:
    for name, (target, short_help) in COMMANDS.items():
        assert ":" in target and short_help, name
