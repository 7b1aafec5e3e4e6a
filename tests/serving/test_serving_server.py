"""The BentoML server end to end on loopback: a genuine upload is attested; bad ones get clear 4xx and leave nothing behind."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from attest.attestation import SignedAttestation, verify_attestation
from attest.keys import AccountKey, Ed25519Key, X25519Key
from serving.client import CaptureApp, VerificationClient, error_message
from serving.serve_cli import server_command, server_env

REPO = Path(__file__).resolve().parents[2]


def _persisted(state: Path) -> tuple[int, int]:
    """(stored envelopes, claimed salts) in the server's state folder."""
    envelopes = sum(1 for p in (state / "envelopes").glob("??/*")) if (state / "envelopes").exists() else 0
    salts = 0
    if (state / "salts.sqlite").exists():
        with sqlite3.connect(state / "salts.sqlite") as conn:
            salts = conn.execute("SELECT COUNT(*) FROM salts").fetchone()[0]
    return envelopes, salts


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``veid serve`` in a subprocess on 127.0.0.1:<free port> with a validator home and a JSON client registry."""
    import socket

    from pipelines.provenance.registry import ApprovedClient, JsonFileClientRegistry
    from serving.daemon import ValidatorHome
    from serving.keydir import create_encryption_key

    root = tmp_path_factory.mktemp("server")
    (root / "vh" / "keys").mkdir(parents=True)
    mnemonic = AccountKey.generate_mnemonic()
    (root / "vh" / "keys" / "val.mnemonic").write_text(mnemonic)
    ValidatorHome(root / "vh", "val", root / "chain", root / "envelopes").write()
    enc = create_encryption_key(root / "vh")
    app = CaptureApp("phone-app", Ed25519Key.generate())
    reg = JsonFileClientRegistry(root / "registry.json")
    reg.add(ApprovedClient(app.client_id, app.key.public_key_bytes, "phone app"))
    reg.save()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = server_env(REPO / "params.yaml", root / "vh", None, root / "registry.json", root / "state")
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(server_command("127.0.0.1", port), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    client = VerificationClient(f"http://127.0.0.1:{port}", timeout_s=180)
    deadline = time.monotonic() + 240
    while not client.ready():
        assert proc.poll() is None, (root / "server.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "server not ready in 240 s"
        time.sleep(1)
    yield {"client": client, "app": app, "enc": enc, "validator": AccountKey.from_mnemonic(mnemonic),
           "state": root / "state", "proc": proc}
    client.close()
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_genuine_upload_is_attested_once(server, identity):
    c, app = server["client"], server["app"]
    user = AccountKey.generate()
    envelope, _ = app.upload(identity.document, identity.selfie, identity.scopes, user, [server["enc"].public_key()])
    r = c.verify(envelope, scope_id="scope-x")
    assert r.status_code == 200, r.text
    body = r.json()
    signed = SignedAttestation.from_dict(body["signed_attestation"])
    verify_attestation(signed, server["validator"].public_key_bytes)
    att = signed.attestation
    assert att.subject == user.address and att.issuer == server["validator"].address
    assert att.score == body["score"] and 0 <= att.score <= 100 and att.tier == body["tier"]
    assert any(s.scope == "selfie" for s in att.scopes)
    # No personal data: nothing read from the document appears in the signed record.
    text = str(att.to_dict())
    assert "@" not in text and user.address in text
    assert _persisted(server["state"]) == (1, 1)
    # The same upload again: a replay.
    again = c.verify(envelope)
    assert again.status_code == 409 and "replay" in error_message(again)
    assert _persisted(server["state"]) == (1, 1)
    metrics = c.metrics()
    assert 'veid_stage_seconds_count{stage="face"}' in metrics and 'veid_errors_total{kind="replay"}' in metrics


@pytest.mark.slow
def test_bad_uploads_get_4xx_and_leave_nothing(server, identity):
    c, app = server["client"], server["app"]
    before = _persisted(server["state"])
    user = AccountKey.generate()
    cases = []
    cases.append(("not base64", c.http.post("/verify", json={"envelope_b64": "%%%"}), 400, "base64"))
    cases.append(("no field", c.http.post("/verify", json={"other": 1}), 400, ""))
    cases.append(("garbage envelope", c.verify(b"VEN\x00garbage"), 400, "malformed envelope"))
    cases.append(("oversized", c.http.post("/verify", content=b"{" + b" " * (17 * 1024 * 1024) + b"}",
                                           headers={"content-type": "application/json"}), 413, "exceeds"))
    wrong_key, _ = app.upload(identity.document, identity.selfie, None, user, [X25519Key.generate().public_key()])
    cases.append(("wrong recipient", c.verify(wrong_key), 422, "not a recipient"))
    rogue = CaptureApp("phone-app", Ed25519Key.generate())
    forged, _ = rogue.upload(identity.document, identity.selfie, None, user, [server["enc"].public_key()])
    cases.append(("unapproved sender", c.verify(forged), 422, "not an approved capture client"))
    raw = bytearray(app.upload(identity.document, identity.selfie, None, user, [server["enc"].public_key()])[0])
    raw[len(raw) // 2] ^= 0x01
    cases.append(("tampered", c.verify(bytes(raw)), 422, "envelope rejected"))
    stale_app = CaptureApp("phone-app", app.key)
    from pipelines.provenance.capture import CaptureSigner, device_fingerprint
    from serving.bundle import bundle_items, seal_bundle

    old = CaptureSigner("phone-app", app.key, device_fingerprint({"m": "x"}), clock=lambda: time.time() - 3600)
    stale = seal_bundle(old.sign(bundle_items(identity.document, identity.selfie), user), [server["enc"].public_key()],
                        stale_app.key).to_bytes()
    cases.append(("stale capture", c.verify(stale), 422, "stale_timestamp"))
    for name, response, status, text in cases:
        assert response.status_code == status, (name, response.status_code, response.text[:300])
        assert text in error_message(response), (name, error_message(response))
    assert _persisted(server["state"]) == before


@pytest.mark.slow
def test_score_endpoint_and_health(server):
    c = server["client"]
    assert c.http.get("/livez").status_code == 200 and c.ready()
    bad = c.score([0.5, 0.5])
    assert bad.status_code == 400 and "features" in error_message(bad)
    from pipelines.scoring.evidence import Evidence
    from pipelines.scoring.features import build_features

    from concurrent.futures import ThreadPoolExecutor

    from pipelines.scoring.evidence import EmailEvidence, SelfieEvidence

    rows = [list(build_features(ev).values) for ev in
            (Evidence(), Evidence(email=EmailEvidence(True)), Evidence(email=EmailEvidence(True), selfie=SelfieEvidence(0.3, True)))]
    r = c.score(rows[0])
    # A trained scorer answers 200; the baseline (no trained model installed) cannot score bare features.
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert "no trained scorer" in error_message(r)
        return
    singles = [c.score(row).json()["score"] for row in rows]
    assert all(0 <= x <= 100 for x in singles) and singles[0] <= singles[1] <= singles[2]  # monotone in added scopes
    # Adaptive batching: concurrent batch requests are merged server-side and answered row for row.
    with ThreadPoolExecutor(4) as pool:  # at most max_concurrency at once (more would get 503)
        answers = list(pool.map(lambda _: c.http.post("/score_batch", json={"features": rows}), range(4)))
    assert all(a.status_code == 200 and a.json() == singles for a in answers), [a.text[:200] for a in answers]
    bad_batch = c.http.post("/score_batch", json={"features": [[2.0] * len(rows[0])]})
    assert bad_batch.status_code == 400
