"""VEID end to end on one machine: a local chain, three validator daemons, one synthetic identity captured, uploaded and scored.

Every process it starts (the chain node, three daemons) is a child it stops on exit, on
failure and on Ctrl-C; only loopback addresses are used.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from veid.errors import ChainError, InputError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_FACES = REPO_ROOT / "data" / "demo_faces"
CLIENT_ID = "veid-demo-app"
USER = "alice"


@dataclass(frozen=True)
class DemoResult:
    """What the demo ends with: the on-chain score record, every attestation about the user, and timings (s)."""

    subject: str
    scope_id: str
    score: int
    tier: str
    agreeing_power: int
    total_power: int
    attestations: tuple[dict, ...]
    seconds: tuple[tuple[str, float], ...]


class Children:
    """Child processes started by the demo, stopped (SIGTERM, then SIGKILL) in reverse order."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def add(self, name: str, proc: subprocess.Popen) -> subprocess.Popen:
        self.procs.append((name, proc))
        return proc

    def stop(self, grace_s: float = 10.0) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for _, proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs.clear()


def pick_identity(synth_dir: Path) -> tuple[dict, dict]:
    """The first genuine document front with a selfie, and its web-scope history (``scopes.jsonl``).

    A front whose identity also has a genuine web-scope history (label 1) is preferred, so that the
    demo shows a genuine user end to end; otherwise the first genuine front is taken as it is.
    """
    scopes = {}
    if (synth_dir / "scopes.jsonl").exists():
        for line in (synth_dir / "scopes.jsonl").read_text().splitlines():
            rec = json.loads(line)
            scopes[rec["identity"]] = rec
    fronts = [json.loads(line) for line in (synth_dir / "manifest.jsonl").read_text().splitlines()]
    fronts = [r for r in fronts if r["side"] == "front" and r["selfie"] and r["label"]["genuine"]]
    if not fronts:
        raise InputError(f"no genuine document front with a selfie in {synth_dir}")
    for rec in fronts:
        if scopes.get(rec["identity"], {}).get("label") == 1:
            return rec, scopes[rec["identity"]]
    return fronts[0], scopes.get(fronts[0]["identity"], {})


def client_scopes(history: dict) -> dict:
    """The web scopes a capture client reports (email, sms, sso, domain, biometric, metadata) from a scope history."""
    from serving.bundle import CLIENT_SCOPES

    return {k: v for k, v in history.get("scopes", {}).items() if k in CLIENT_SCOPES and v is not None}


def run_demo(work: Path, params: Path, *, seed: int = 3, timeout_s: float = 240.0,
             echo: Callable[[str], None] = print) -> DemoResult:
    """Run the whole flow in ``work`` (created; must be empty or absent) and return the on-chain result.

    Raises:
        ChainError: the chain did not start or no quorum was reached within ``timeout_s``.
    """
    from attest.keys import AccountKey, Ed25519Key
    from chain_client.chain.home import init_home, wallet
    from chain_client.client import ChainClient
    from chain_client.config import ChainConfig
    from chain_client.messages import msg_register_client
    from serving.client import CaptureApp, request_verification
    from serving.envelope_store import EnvelopeStore
    from serving.keydir import ChainKeyDirectory
    from training.synth import SynthConfig, generate
    from veid.config import load_section

    t0 = time.monotonic()
    marks: list[tuple[str, float]] = []

    def mark(name: str) -> None:
        marks.append((name, round(time.monotonic() - t0, 2)))

    work.mkdir(parents=True, exist_ok=True)
    cfg = dataclasses.replace(load_section(params, "chain", ChainConfig), grpc_port=0)
    chain_home = work / "chain"
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    children = Children()
    try:
        echo(f"[1/7] chain: init {chain_home} (3 validators, users, genesis) and start the node")
        init_home(chain_home, cfg, overwrite=True)
        node, address = _spawn_node(chain_home)
        children.add("chain", node)
        client = ChainClient(address, cfg)
        mark("chain started")
        echo(f"      serving gRPC on {address}")

        echo("[2/7] validators: encryption keys (0600) in their homes, public keys on chain")
        validators = client.validators()
        vhomes = []
        for i, v in enumerate(sorted(validators, key=lambda v: v.moniker)):
            vhome = work / "validators" / v.moniker
            _run([sys.executable, "-m", "veid.cli", "validator", "init", "--home", str(vhome), "--key", v.moniker,
                  "--chain-home", str(chain_home), "--overwrite"], logs / f"init-{v.moniker}.log")
            vhomes.append((v.moniker, vhome))
        recipients = ChainKeyDirectory(client).recipients([v.address for v in validators])
        echo(f"      {len(recipients)} encryption keys read from the chain's validator records")

        echo("[3/7] capture client: Ed25519 key, approved on chain by the genesis account")
        client_key = Ed25519Key.generate()
        key_file = work / "client" / "client.key"
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(client_key.private_key_bytes.hex() + "\n")
        genesis = wallet(chain_home, "genesis", cfg.prefix)
        client.submit(genesis, [msg_register_client(str(genesis.address()), CLIENT_ID, client_key.public_key_bytes,
                                                    "ed25519", "VEID demo capture app")])
        mark("client approved")

        echo(f"[4/7] synthetic identity (training.synth, seed {seed})")
        synth_dir = work / "synth"
        # The demo draws portraits from the small public-domain copy shipped in the repository, so that
        # `make run` works on a fresh clone without ../shared (tests and benchmarks use the full set).
        synth_cfg = dataclasses.replace(load_section(params, "synth", SynthConfig), faces_dir=str(DEMO_FACES))
        generate(synth_dir, n=8, seed=seed, cfg=synth_cfg, progress=False, force=True)
        sample, history = pick_identity(synth_dir)
        echo(f"      sample {sample['id']}: {sample['family']}, web-scope history {history.get('archetype', 'none')}")
        mark("identity generated")

        echo(f"[5/7] capture as the client app: sign (client + {USER}'s account), encrypt to the validators")
        account = AccountKey.from_mnemonic((chain_home / "keys" / f"{USER}.mnemonic").read_text().strip(), cfg.prefix)
        app = CaptureApp(CLIENT_ID, client_key, (("model", "demo-phone"), ("os", "veid-demo")))
        envelope, upload = app.upload((synth_dir / sample["image"]).read_bytes(), (synth_dir / sample["selfie"]).read_bytes(),
                                      client_scopes(history), account, recipients, cfg.prefix)
        echo(f"      envelope {len(envelope)} bytes, sealed to {len(recipients)} validators")

        echo("[6/7] upload: envelope to the shared store, MsgUploadScope signed by the client and the user")
        scope_id, height = request_verification(client, wallet(chain_home, USER, cfg.prefix), account, app, envelope,
                                                upload.salt, EnvelopeStore(chain_home / "envelopes"))
        echo(f"      request {scope_id} in block {height}")
        mark("uploaded")

        echo("[7/7] three validator daemons (separate processes) verify and attest")
        for name, vhome in vhomes:
            log = open(logs / f"{name}.log", "w")
            children.add(name, subprocess.Popen(
                [sys.executable, "-m", "veid.cli", "validator", "run", "--home", str(vhome), "--grpc", address,
                 "--params", str(params), "--parent-pid", str(os.getpid())], cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT))
        record = _wait_for_score(client, account.address, scope_id, children, timeout_s - (time.monotonic() - t0), logs)
        mark("quorum")
        # Quorum needs 2 of 3; give the last validator a moment to land its vote too (bounded).
        late = time.monotonic() + min(20.0, max(0.0, timeout_s - (time.monotonic() - t0)))
        while len(client.attestations(account.address)) < len(validators) and time.monotonic() < late:
            time.sleep(0.5)
        atts = tuple(_attestation_view(a) for a in client.attestations(account.address))
        record = client.score(account.address) or record  # re-read: late votes raise the agreeing power
        client.close()
        return DemoResult(account.address, scope_id, record.score, record.tier, record.agreeing_power,
                          record.total_power, atts, tuple(marks))
    finally:
        children.stop()


#: Runs a command with PR_SET_PDEATHSIG=SIGTERM (kept across exec): the child stops if the demo dies, even by SIGKILL.
_WITH_PARENT = ("import ctypes, os, signal, sys; ctypes.CDLL('libc.so.6').prctl(1, signal.SIGTERM); "
                "os.getppid() == int(sys.argv[1]) or sys.exit(0); os.execv(sys.executable, [sys.executable] + sys.argv[2:])")


def _spawn_node(home: Path, timeout_s: float = 60.0) -> tuple[subprocess.Popen, str]:
    """``veid chain start --home HOME`` on a free loopback port, tied to this process; returns it and its address."""
    from chain_client.chain.home import spawn_node

    return spawn_node(home, 0, timeout_s, python_args=("-c", _WITH_PARENT, str(os.getpid())), log=home / "node.log")


def _run(cmd: list[str], log: Path) -> None:
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, stdout=fh, stderr=subprocess.STDOUT, timeout=120)
    if proc.returncode != 0:
        raise ChainError(f"{' '.join(cmd[3:6])} failed (exit {proc.returncode}): {log.read_text()[-800:]}")


def _wait_for_score(client, subject: str, scope_id: str, children: Children, budget_s: float, logs: Path):
    deadline = time.monotonic() + max(budget_s, 1.0)
    while time.monotonic() < deadline:
        record = client.score(subject)
        if record is not None and record.round == scope_id:
            return record
        dead = [name for name, p in children.procs if p.poll() is not None]
        if dead:
            tails = "\n".join(f"--- {n}:\n{(logs / f'{n}.log').read_text()[-1500:]}" for n in dead if (logs / f"{n}.log").exists())
            raise ChainError(f"process(es) {dead} exited before a quorum was reached\n{tails}")
        time.sleep(0.5)
    raise ChainError(f"no quorum on {scope_id} within the time budget; see the logs in {logs}")


def _attestation_view(att) -> dict:
    from chain_client.messages import decode_signed_attestation

    signed = decode_signed_attestation(att.signed_attestation)
    return {"attestation_id": att.attestation_id, "validator": att.validator, "height": att.height,
            "signed": signed.to_dict()}
