"""`veid chain init / info / query` through click's runner (the node itself runs in process here)."""

from __future__ import annotations

import json
import stat

import yaml
from click.testing import CliRunner

from chain_client.chain.home import open_node
from chain_client.cli import chain
from veid.config import DEFAULT_PARAMS


def _params(tmp_path):
    raw = yaml.safe_load(DEFAULT_PARAMS.read_text())
    raw["chain"]["grpc_port"] = 0
    raw["chain"]["sqlite_synchronous"] = "NORMAL"
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_init_info_and_queries(tmp_path):
    runner = CliRunner()
    home = tmp_path / "home"
    result = runner.invoke(chain, ["init", "--home", str(home), "--params", str(_params(tmp_path))])
    assert result.exit_code == 0, result.output
    names = {"genesis", "validator-0", "validator-1", "validator-2", "alice", "bob", "client"}
    assert {p.stem for p in (home / "keys").glob("*.mnemonic")} == names
    for p in (home / "keys").glob("*.mnemonic"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        assert len(p.read_text().split()) == 24
    again = runner.invoke(chain, ["init", "--home", str(home)])
    assert again.exit_code != 0 and "already initialised" in str(again.exception)

    info = json.loads(runner.invoke(chain, ["info", "--home", str(home), "--json"]).output)
    assert info["chain_id"] == "virtengine-local-1" and info["denom"] == "uve" and info["prefix"] == "virtengine"
    assert info["running"] is False and info["height"] is None
    assert info["validators"] == {"validator-0": 10, "validator-1": 10, "validator-2": 10}

    running = open_node(home, grpc_port=0)
    try:
        info = json.loads(runner.invoke(chain, ["info", "--home", str(home), "--json"]).output)
        assert info["running"] is True and info["grpc"] == running.address and info["height"] == 0
        roles = json.loads(runner.invoke(chain, ["query", "roles", "alice", "--home", str(home), "--json"]).output)
        assert roles["roles"] == ["ROLE_CUSTOMER"] and roles["address"] == info["accounts"]["alice"]
        genesis_roles = runner.invoke(chain, ["query", "roles", "genesis", "--home", str(home), "--json"]).output
        assert "ROLE_GENESIS_ACCOUNT" in genesis_roles
        score = json.loads(runner.invoke(chain, ["query", "score", "alice", "--home", str(home), "--json"]).output)
        assert score == {"found": False}
        clients = json.loads(runner.invoke(chain, ["query", "clients", "--home", str(home), "--json"]).output)
        assert [c["client_id"] for c in clients] == ["client"]
        assert json.loads(runner.invoke(chain, ["query", "attestations", "bob", "--home", str(home), "--json"]).output) == []
    finally:
        running.stop()
    missing = runner.invoke(chain, ["query", "score", "alice", "--home", str(home)])
    assert missing.exit_code != 0 and "no running node" in str(missing.exception)
