"""Benchmark of attest/: envelope seal/open of 1 MB payloads and attestation sign/verify, against PyNaCl.

Run: ``.venv/bin/python -m bench.bench_attest [--reps N]``. Prints one table of medians over
N repetitions, each VEID figure beside its peer measured in the same run:

* envelopes: ``attest.envelope.seal`` / ``open_envelope`` (HPKE-wrapped data key, AES-256-GCM
  payload, Ed25519 signature) against libsodium sealed boxes (``nacl.public.SealedBox``,
  X25519 + XSalsa20-Poly1305, no sender signature). A sealed box has one recipient, so the
  peer for 5 recipients seals the payload 5 times (what a caller would have to do).
* attestations: secp256k1 ``sign_attestation`` / ``verify_attestation`` (JCS encoding
  included) against libsodium Ed25519 signing of the same canonical bytes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from nacl.public import PrivateKey as NaclPrivateKey
from nacl.public import SealedBox
from nacl.signing import SigningKey

from attest.attestation import Attestation, ScopeSummary, commit_evidence, sign_attestation, verify_attestation
from attest.envelope import EnvelopeContext, Suite, open_envelope, seal
from attest.keys import AccountKey, Ed25519Key, MLKEM768X25519Key, X25519Key
from veid.types import ModelVersion

MB = 1_000_000


Timing = tuple[float, float]  # (median, minimum) seconds per call


def _paired(ours: Callable[[], object], peer: Callable[[], object], reps: int, inner: int = 1) -> tuple[Timing, Timing]:
    """Median and minimum seconds per call of ``ours`` and ``peer``, timed alternately (same machine load)."""

    def once(fn: Callable[[], object]) -> float:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        return (time.perf_counter() - t0) / inner

    ours(), peer()  # warm-up
    a, b = [], []
    for _ in range(reps):
        a.append(once(ours))
        b.append(once(peer))
    return (statistics.median(a), min(a)), (statistics.median(b), min(b))


def _envelope_rows(reps: int) -> list[tuple[str, Timing, Timing, str]]:
    payload = os.urandom(MB)
    sender = Ed25519Key.generate()
    ctx = EnvelopeContext("identity_upload", AccountKey.generate().address, os.urandom(16))
    rows = []
    for n in (1, 5):
        nacl_keys = [NaclPrivateKey.generate() for _ in range(n)]
        boxes = [SealedBox(k.public_key) for k in nacl_keys]
        nacl_sealed = [b.encrypt(payload) for b in boxes]
        for suite, cls in ((Suite.X25519, X25519Key), (Suite.MLKEM768_X25519, MLKEM768X25519Key)):
            keys = [cls.generate() for _ in range(n)]
            pubs = [k.public_key() for k in keys]
            wire = seal(payload, pubs, sender, ctx, suite).to_bytes()
            t_seal, peer_seal = _paired(
                lambda: seal(payload, pubs, sender, ctx, suite).to_bytes(),
                lambda: [b.encrypt(payload) for b in boxes],
                reps,
            )
            t_open, peer_open = _paired(
                lambda: open_envelope(wire, keys[-1], ctx, [sender.public_key_bytes]),
                lambda: SealedBox(nacl_keys[-1]).decrypt(nacl_sealed[-1]),
                reps,
            )
            rows.append((f"seal 1 MB -> {n} recipient(s), {suite.name}", t_seal, peer_seal, "MB/s"))
            rows.append((f"open 1 MB ({n} recipient(s)), {suite.name}", t_open, peer_open, "MB/s"))
    return rows


def _attestation_rows(reps: int) -> list[tuple[str, Timing, Timing, str]]:
    validator = AccountKey.generate()
    att = Attestation(
        validator.address, AccountKey.generate().address, 87, "verified",
        (ScopeSummary("document", True, 91), ScopeSummary("face", True, 84)), ("mrz_ok", "face_match"),
        (ModelVersion("craft", "a" * 64),), "0.1.0", commit_evidence([os.urandom(32)], [os.urandom(32)]),
        1_700_000_000, 1_731_536_000,
    )  # fmt: skip
    signed = sign_attestation(att, validator)
    nacl_key = SigningKey.generate()
    message = att.canonical_bytes()
    nacl_signed = nacl_key.sign(message)
    inner = 50
    t_sign, p_sign = _paired(lambda: sign_attestation(att, validator), lambda: nacl_key.sign(message), reps, inner)
    t_verify, p_verify = _paired(
        lambda: verify_attestation(signed, validator.public_key_bytes),
        lambda: nacl_key.verify_key.verify(nacl_signed),
        reps,
        inner,
    )
    return [
        ("attestation sign (secp256k1, JCS)", t_sign, p_sign, "ops/s"),
        ("attestation verify (secp256k1, JCS)", t_verify, p_verify, "ops/s"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="repetitions per measurement (median reported)")
    args = parser.parse_args()
    rows = _envelope_rows(args.reps) + _attestation_rows(args.reps)
    header = (f"{'operation':<44} {'veid ms':>8} {'veid rate':>12} {'pynacl ms':>9} {'pynacl rate':>12} "
              f"{'veid/peer':>9} {'(min/min)':>9}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for name, (ours, ours_min), (peer, peer_min), unit in rows:  # 1 MB payloads: MB/s and ops/s are 1 / time
        rate_ours, rate_peer = f"{1 / ours:,.0f} {unit}", f"{1 / peer:,.0f} {unit}"
        print(f"{name:<44} {ours * 1e3:>8.3f} {rate_ours:>12} {peer * 1e3:>9.3f} {rate_peer:>12} "
              f"{ours / peer:>8.2f}x {ours_min / peer_min:>8.2f}x")  # fmt: skip
    print(f"\nmedians of {args.reps} runs, VEID and peer timed alternately (attestations: batches of 50 per run); "
          "veid/peer is the ratio of median times (below 1: VEID faster), min/min the ratio of the fastest runs. Peer for 5 recipients = 5 sealed boxes; "
          "peer for attestations = libsodium Ed25519 on the same canonical bytes.")  # fmt: skip


if __name__ == "__main__":
    main()
