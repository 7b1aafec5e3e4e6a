"""The validator daemon: pending MsgUploadScope requests -> fetch, decrypt, verify, sign -> MsgSubmitAttestation.

Each request goes NEW -> ATTESTED (signed attestation recorded in SQLite) -> SUBMITTED (on
chain). A restart resumes from the recorded state: an ATTESTED request is resubmitted with
the same bytes unless the chain already holds it, so no request is judged twice and no
attestation is duplicated. Freshness of a capture is judged at the block time of its upload,
so every validator reaches the same verdict whenever it gets to the request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from attest.keys import AccountKey, X25519Key
from chain_client.client import ChainClient, TxFailed
from chain_client.gen.virtengine.veid.v1 import tx_pb2
from chain_client.gen.virtengine.veid.v1 import types_pb2 as T
from chain_client.messages import AttestationPayload
from pipelines.provenance.verify import ProvenanceVerifier
from serving.attestor import Attestor
from serving.bundle import open_bundle
from serving.chain_registry import ChainClientRegistry
from serving.config import ValidatorConfig
from serving.envelope_store import EnvelopeStore
from serving.progress import ProgressStore, ScopedSaltClaims, Status
from serving.verifier import IdentityVerifier, VerificationOutcome, rejection_outcome
from veid.errors import ChainError, ConfigError, CryptoError, InputError, ModelError, StageError
from veid.logs import get_logger
from veid.types import CheckResult

_LOG = get_logger("veid.serving.daemon")
HOME_FILE = "validator.json"


@dataclass(frozen=True)
class ValidatorHome:
    """A validator's home: ``validator.json`` (key name, chain home, envelope store), ``encryption.key``, ``progress.sqlite``."""

    path: Path
    key_name: str
    chain_home: Path
    envelope_dir: Path

    @classmethod
    def read(cls, path: str | Path) -> "ValidatorHome":
        """Read ``HOME/validator.json``.

        Raises:
            ConfigError: missing or malformed.
        """
        path = Path(path)
        try:
            raw = json.loads((path / HOME_FILE).read_text(encoding="utf-8"))
            return cls(path, str(raw["key"]), Path(raw["chain_home"]), Path(raw["envelope_dir"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path / HOME_FILE}: not a validator home ({exc}); run `veid validator init`") from exc

    def write(self) -> None:
        """Write ``HOME/validator.json`` atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        doc = {"key": self.key_name, "chain_home": str(self.chain_home), "envelope_dir": str(self.envelope_dir)}
        tmp = self.path / (HOME_FILE + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / HOME_FILE)

    def account_key(self, prefix: str) -> AccountKey:
        """The validator's secp256k1 key: ``HOME/keys/NAME.mnemonic``, else the chain home's local test key."""
        for folder in (self.path / "keys", self.chain_home / "keys"):
            f = folder / f"{self.key_name}.mnemonic"
            if f.exists():
                return AccountKey.from_mnemonic(f.read_text(encoding="utf-8").strip(), prefix)
        raise ConfigError(f"no key {self.key_name!r} in {self.path / 'keys'} or {self.chain_home / 'keys'}")


class ValidatorDaemon:
    """``ValidatorDaemon(...).run(stop)``: poll, judge and attest until ``stop`` is set.

    Args:
        cfg: daemon settings.
        client: chain client.
        wallet: cosmpy wallet of the validator (signs transactions).
        key: the validator's account key (signs attestations; same key as ``wallet``).
        encryption_key: the validator's X25519 envelope key.
        verifier: the pipeline, or a zero-argument callable that loads it (called on the first request
            that needs judging, so a restart that only resubmits recorded attestations loads no model).
        provenance_cfg: freshness settings.
        store: envelope store.
        progress: durable progress.
        validity_days: attestation lifetime.
        tiers: the tier policy (for rejections, judged without loading the pipeline).
        crash_after: fault injection for tests: ``attested`` or ``submitted`` exits the process
            (``os._exit(137)``) right after that step is recorded; empty in normal use.
    """

    def __init__(self, cfg: ValidatorConfig, client: ChainClient, wallet, key: AccountKey, encryption_key: X25519Key,
                 verifier, provenance_cfg, store: EnvelopeStore, progress: ProgressStore,
                 validity_days: int, tiers, crash_after: str = "") -> None:
        self.cfg, self.client, self.wallet, self.key = cfg, client, wallet, key
        self.encryption_key = encryption_key
        self._verifier = verifier
        self.provenance_cfg = provenance_cfg
        self.store = store
        self.progress = progress
        self.registry = ChainClientRegistry(client, ttl_s=2.0)
        self.attestor = Attestor(key, validity_days)
        self.crash_after = crash_after
        self.tiers = tiers
        self.address = key.address
        self.prefix = client.cfg.prefix

    @property
    def verifier(self) -> IdentityVerifier:
        """The pipeline, loaded on first use."""
        if not isinstance(self._verifier, IdentityVerifier):
            self._verifier = self._verifier()
            v = self._verifier
            _LOG.info("pipeline loaded: scorer %s, document stage %s, face %s", v.scorer.version.name,
                      v.document.source, "on" if v.face else "OFF")
        return self._verifier

    # ------------------------------------------------------------------ loop
    def run(self, stop: threading.Event, max_seconds: float | None = None, exit_when_idle: bool = False) -> int:
        """Poll until ``stop`` is set (or ``max_seconds`` pass); returns the number of requests attested."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        done = 0
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                pending = self.client.pending_verifications()
            except ChainError as exc:
                _LOG.warning("chain unreachable: %s", exc)
                stop.wait(self.cfg.poll_interval_s)
                continue
            worked = False
            for scope in sorted(pending, key=lambda s: (s.uploaded_height, s.scope_id)):
                if stop.is_set():
                    break
                try:
                    if self.process(scope):
                        done += 1
                        worked = True
                except ChainError as exc:  # the chain went away mid-request: the recorded state is resumed later
                    _LOG.warning("request %s: chain error, will retry: %s", scope.scope_id, exc)
                    break
            if exit_when_idle and not worked and self._nothing_left(pending):
                break
            if not worked:
                stop.wait(self.cfg.poll_interval_s)
        return done

    def _nothing_left(self, pending: list[T.Scope]) -> bool:
        """True when every pending request is done (submitted or given up) for this validator."""
        for scope in pending:
            row = self.progress.get(scope.scope_id)
            if row is None or row.status not in (Status.SUBMITTED, Status.GAVE_UP):
                return False
        return True

    def process(self, scope: T.Scope) -> bool:
        """Advance one request as far as possible; True when this call put an attestation on chain."""
        row = self.progress.ensure(scope.scope_id)
        if row.status in (Status.SUBMITTED, Status.GAVE_UP) or row.next_try > time.time():
            return False
        if row.status is Status.NEW:
            try:
                payload = self._judge(scope)
            except (ModelError, StageError, ChainError, InputError, OSError) as exc:  # retried: no judgement yet
                failed = self.progress.record_failure(scope.scope_id, f"{type(exc).__name__}: {exc}",
                                                      self.cfg.max_attempts, self.cfg.retry_backoff_s)
                _LOG.warning("request %s: no judgement (%s), attempt %d/%d", scope.scope_id, type(exc).__name__,
                             failed.attempts, self.cfg.max_attempts)
                return False
            msg = payload.to_msg(self.address)
            self.progress.record_attested(scope.scope_id, msg.SerializeToString())
            self._maybe_crash("attested")
            row = self.progress.ensure(scope.scope_id)
        return self._submit(scope, row.payload)

    # ------------------------------------------------------------------ steps
    def _submit(self, scope: T.Scope, raw_msg: bytes) -> bool:
        msg = tx_pb2.MsgSubmitAttestation()
        msg.ParseFromString(raw_msg)
        if self._already_on_chain(scope, msg):
            self.progress.record_submitted(scope.scope_id, "")
            return False
        try:
            outcome = self.client.submit(self.wallet, [msg])
        except TxFailed as exc:
            if "already recorded" in exc.log and self._already_on_chain(scope, msg):
                self.progress.record_submitted(scope.scope_id, exc.tx_hash)
                return False
            self.progress.record_failure(scope.scope_id, str(exc), self.cfg.max_attempts, self.cfg.retry_backoff_s)
            _LOG.warning("request %s: attestation refused: %s", scope.scope_id, exc.log)
            return False
        except ChainError as exc:
            _LOG.warning("request %s: submit failed, will retry: %s", scope.scope_id, exc)
            return False
        self.progress.record_submitted(scope.scope_id, outcome.tx_hash)
        _LOG.info("request %s: attestation score %d on chain (tx %s, height %d)", scope.scope_id, msg.score,
                  outcome.tx_hash[:12], outcome.height)
        self._maybe_crash("submitted")
        return True

    def _already_on_chain(self, scope: T.Scope, msg: tx_pb2.MsgSubmitAttestation) -> bool:
        digest = hashlib.sha256(msg.signed_attestation).hexdigest()
        for att in self.client.attestations(scope.owner):
            if att.validator == self.address and att.scope_id == scope.scope_id:
                if att.attestation_id != digest:
                    _LOG.warning("request %s: chain holds another attestation of ours", scope.scope_id)
                return True
        return False

    def _judge(self, scope: T.Scope) -> AttestationPayload:
        """Fetch, open, check and score one request; a bad upload is judged (score 0), not retried."""
        envelope = self.store.get(scope.envelope_ref)  # InputError when missing: retried below
        block_time = self.client.ledger.query_block(scope.uploaded_height).time.timestamp()
        if not hmac.compare_digest(hashlib.sha256(envelope).digest(), bytes(scope.envelope_hash)):
            return self._reject(scope, envelope, b"", "envelope_hash_mismatch", "stored envelope differs from the request's hash")
        try:
            env, bundle = open_bundle(envelope, self.encryption_key, self.registry, self.prefix, expected_subject=scope.owner)
        except (CryptoError, InputError) as exc:
            return self._reject(scope, envelope, b"", "envelope_invalid", str(exc))
        if not hmac.compare_digest(hashlib.sha256(env.context.salt).digest(), bytes(scope.salt_hash)):
            return self._reject(scope, envelope, b"", "salt_hash_mismatch", "upload salt differs from the request's salt hash")
        if bundle.upload.client_id != scope.client_id:
            return self._reject(scope, envelope, b"", "client_mismatch", "upload names another client than the request")
        verifier = ProvenanceVerifier(self.provenance_cfg, self.registry, ScopedSaltClaims(self.progress, scope.scope_id),
                                      clock=lambda: block_time)
        prov = verifier.verify(bundle.upload)
        if not prov.accepted:
            assert prov.failure is not None
            return self._reject(scope, envelope, bundle.upload.salt, f"provenance.{prov.failure.value}", prov.reason)
        outcome = self.verifier.verify(bundle.document, bundle.selfie, bundle.web_evidence, subject=scope.owner,
                                       provenance=prov, now_s=block_time)
        _LOG.info("request %s: score %d (%s), stages %s", scope.scope_id, outcome.score, outcome.tier,
                  ", ".join(f"{n} {s:.2f}s" for n, s in outcome.stage_seconds))
        return self._payload(scope, outcome, envelope, bundle.upload.salt)

    def _reject(self, scope: T.Scope, envelope: bytes, salt: bytes, code: str, reason: str) -> AttestationPayload:
        _LOG.info("request %s rejected: %s", scope.scope_id, code)
        check = CheckResult(f"upload.{code}"[:64], False, 0.0, reason[:200])
        outcome = rejection_outcome(scope.owner, code, self.tiers, check)
        return self._payload(scope, outcome, envelope, salt)

    def _payload(self, scope: T.Scope, outcome: VerificationOutcome, envelope: bytes, salt: bytes) -> AttestationPayload:
        signed = self.attestor(outcome, hashlib.sha256(envelope).digest(), salt)
        return AttestationPayload.from_signed(signed, scope_id=scope.scope_id)

    def _maybe_crash(self, step: str) -> None:
        if self.crash_after == step:
            _LOG.warning("fault injection: exiting after %s", step)
            os._exit(137)
