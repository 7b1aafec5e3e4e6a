"""The BentoML verification service: encrypted identity upload -> signed attestation; features -> score.

Run with ``veid serve`` (or ``bentoml serve serving.service:VerificationService``). Settings come
from params.yaml (``serving`` and the pipeline sections) and these environment variables, read
once per worker:

* ``VEID_PARAMS``: params.yaml to use (default: the repository's).
* ``VEID_VALIDATOR_HOME``: validator home (``veid validator init``): the X25519 key that opens
  envelopes and the account key that signs attestations. Without it ``verify`` answers 503.
* ``VEID_CHAIN_GRPC``: chain gRPC address: approved clients are read from the chain and
  readiness requires the chain. Else ``VEID_CLIENT_REGISTRY`` names a JSON client registry.
* ``VEID_STATE_DIR``: folder for the envelope store and replay database (default: the
  ``serving`` section's paths).

HTTP answers: 400 malformed request or upload, 409 replayed upload, 413 body too large,
422 envelope or provenance rejected, 503 overloaded / not configured, 500 no judgement possible
(model or stage failure: the server fails closed). Rejected uploads leave nothing behind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

import bentoml
import numpy as np
from bentoml.exceptions import BentoMLException, InvalidArgument, ServiceUnavailable, UnprocessableEntity

from serving.config import ServingConfig
from serving.http_guard import BodyLimit, ConcurrencyLimit
from veid.config import DEFAULT_PARAMS, load_section

PARAMS = Path(os.environ.get("VEID_PARAMS", str(DEFAULT_PARAMS)))
CFG = load_section(PARAMS, "serving", ServingConfig)


class Conflict(BentoMLException):
    """The upload was already used (replay)."""

    error_code = HTTPStatus.CONFLICT


class NoJudgement(BentoMLException):
    """A model or stage failed: no verdict could be made (fail closed)."""

    error_code = HTTPStatus.INTERNAL_SERVER_ERROR


@bentoml.service(name="veid_verifier", traffic={"timeout": CFG.timeout_s}, workers=CFG.workers, threads=CFG.api_threads)
class VerificationService:
    """Validator verification API: ``verify``, ``score``; ``/readyz`` when models are loaded and the chain answers."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        from pipelines.provenance.salt_store import SaltStore
        from serving.envelope_store import EnvelopeStore
        from serving.verifier import IdentityVerifier, PipelineSettings

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        self.settings = PipelineSettings.from_params(PARAMS)
        self.verifier = IdentityVerifier.load(self.settings)
        state = os.environ.get("VEID_STATE_DIR")
        self.store = EnvelopeStore(Path(state) / "envelopes" if state else Path(CFG.envelope_dir))
        self.salts = SaltStore(Path(state) / "salts.sqlite" if state else Path(CFG.salt_db))
        self.chain = None
        self.registry, self.identity, self.prefix = _registry_and_identity(self)
        self.stage_seconds = Histogram("veid_stage_seconds", "Wall time of each pipeline stage, seconds.", ["stage"],
                                       buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32))
        self.errors = Counter("veid_errors_total", "Refused or failed requests by kind.", ["kind"])
        self.verdicts = Counter("veid_verifications_total", "Verifications that produced an attestation, by tier.", ["tier"])

    def __is_ready__(self) -> bool:
        """Models loaded and, when a chain is configured, the chain answering."""
        if self.verifier is None:
            return False
        if self.chain is not None:
            from veid.errors import ChainError

            try:
                self.chain.validators()
            except ChainError:
                return False
        return True

    @bentoml.api
    def verify(self, envelope_b64: str, scope_id: str = "") -> dict[str, Any]:
        """Open an encrypted identity upload, check provenance, run the pipeline and return a signed attestation.

        Args:
            envelope_b64: the envelope bytes (``attest.envelope``), base64.
            scope_id: the on-chain request this answers, if any (echoed into the chain payload).
        """
        try:
            return self._verify(envelope_b64, scope_id)
        except BentoMLException as exc:
            self.errors.labels(kind=getattr(exc, "kind", type(exc).__name__)).inc()
            raise

    def _verify(self, envelope_b64: str, scope_id: str) -> dict[str, Any]:
        from attest.envelope import Envelope
        from pipelines.provenance.verify import ProvenanceFailure, ProvenanceVerifier
        from serving.attestor import payload_for
        from serving.bundle import open_bundle
        from veid.errors import CryptoError, InputError, ModelError, StageError

        if self.identity is None:
            raise _kind(ServiceUnavailable("no validator home configured (VEID_VALIDATOR_HOME): cannot open envelopes"), "not_configured")
        t0 = time.perf_counter()
        try:
            envelope = base64.b64decode(envelope_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _kind(InvalidArgument(f"envelope_b64 is not base64: {exc}"), "malformed") from exc
        encryption_key, attestor = self.identity
        try:
            parsed = Envelope.from_bytes(envelope)
        except CryptoError as exc:
            raise _kind(InvalidArgument(f"malformed envelope: {exc}"), "malformed") from exc
        try:
            env, bundle = open_bundle(parsed, encryption_key, self.registry, self.prefix)
        except CryptoError as exc:
            raise _kind(UnprocessableEntity(f"envelope rejected: {exc}"), "envelope") from exc
        except InputError as exc:
            raise _kind(InvalidArgument(f"malformed upload: {exc}"), "malformed") from exc
        self.stage_seconds.labels(stage="open").observe(time.perf_counter() - t0)
        prov = ProvenanceVerifier(self.settings.provenance, self.registry, _PeekSalts(self.salts)).verify(bundle.upload)
        if not prov.accepted:
            if prov.failure is ProvenanceFailure.SALT_REUSED:
                raise _kind(Conflict(f"replayed upload: {prov.reason}"), "replay")
            raise _kind(UnprocessableEntity(f"provenance rejected ({prov.failure.value}): {prov.reason}"), "provenance")
        try:
            outcome = self.verifier.verify(bundle.document, bundle.selfie, bundle.web_evidence, subject=bundle.subject,
                                           provenance=prov)
        except (ModelError, StageError) as exc:
            raise _kind(NoJudgement(f"no judgement: {type(exc).__name__}: {exc}"), "stage") from exc
        for stage, seconds in outcome.stage_seconds:
            self.stage_seconds.labels(stage=stage).observe(seconds)
        # Only now, with a verdict in hand, is anything persisted: the salt (atomic), then the envelope.
        if not self.salts.claim(bundle.upload.salt, bundle.upload.captured_at_ms, bundle.upload.client_id):
            raise _kind(Conflict("replayed upload: this upload's salt was used concurrently"), "replay")
        ref = self.store.put(envelope)
        signed = attestor(outcome, hashlib.sha256(envelope).digest(), bundle.upload.salt)
        payload = payload_for(signed, scope_id)
        self.verdicts.labels(tier=outcome.tier).inc()
        self.stage_seconds.labels(stage="total").observe(time.perf_counter() - t0)
        return {
            "subject": outcome.subject, "score": outcome.score, "tier": outcome.tier,
            "reason_codes": list(outcome.reason_codes), "envelope_ref": ref,
            "attestation_id": signed.attestation.attestation_id, "signed_attestation": signed.to_dict(),
            "evidence_commitment": payload.evidence_commitment.hex(),
            "stage_seconds": {n: round(s, 4) for n, s in outcome.stage_seconds},
        }

    @bentoml.api
    def score(self, features: list[float]) -> dict[str, Any]:
        """Score a precomputed feature vector (``pipelines.scoring.features.FEATURE_NAMES`` order, each in [0, 1])."""
        from pipelines.scoring.features import FEATURE_NAMES, FeatureVector

        if len(features) != len(FEATURE_NAMES) or any(not 0.0 <= float(v) <= 1.0 for v in features):
            self.errors.labels(kind="malformed").inc()
            raise InvalidArgument(f"features must be {len(FEATURE_NAMES)} numbers in [0, 1] ({FEATURE_NAMES[0]}, ...)")
        model = getattr(getattr(self.verifier.scorer, "scorer", None), "model", None)
        if model is None:
            self.errors.labels(kind="no_model").inc()
            raise UnprocessableEntity("no trained scorer installed: the baseline scorer needs evidence, not features")
        import numpy as np

        from serving.scoring_stage import quantize_score

        p = float(model.predict_proba(np.asarray([FeatureVector(tuple(float(v) for v in features)).values]))[0])
        score = quantize_score(p)
        return {"score": score, "tier": self.settings.tiers.tier(score), "probability": p,
                "model": {"name": model.version.name, "sha256": model.version.sha256}}


    @bentoml.api(batchable=True, batch_dim=0, max_batch_size=512, max_latency_ms=50)
    def score_batch(self, features: np.ndarray) -> np.ndarray:
        """Scores of many feature vectors, shape ``(n, n_features)`` -> ``(n,)`` integers; adaptive batching
        merges concurrent requests into one ensemble call. Needs a trained scorer."""
        from pipelines.scoring.features import FEATURE_NAMES

        from serving.scoring_stage import quantize_score

        model = getattr(getattr(self.verifier.scorer, "scorer", None), "model", None)
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(FEATURE_NAMES) or not np.all((x >= 0.0) & (x <= 1.0)):
            self.errors.labels(kind="malformed").inc()
            raise InvalidArgument(f"features must be rows of {len(FEATURE_NAMES)} numbers in [0, 1]")
        if model is None:
            self.errors.labels(kind="no_model").inc()
            raise UnprocessableEntity("no trained scorer installed: the baseline scorer needs evidence, not features")
        return np.asarray([quantize_score(p) for p in model.predict_proba(x)], dtype=np.int64)


VerificationService.add_asgi_middleware(ConcurrencyLimit, max_in_flight=max(1, -(-CFG.max_concurrency // CFG.workers)))
VerificationService.add_asgi_middleware(BodyLimit, max_bytes=CFG.max_upload_bytes)


class _PeekSalts:
    """Provenance checks a salt without claiming it; the service claims it once a verdict exists."""

    def __init__(self, store) -> None:
        self._store = store

    def claim(self, salt: bytes, captured_at_ms: int, client_id: str) -> bool:
        return not self._store.seen(salt)


def _kind(exc: BentoMLException, kind: str) -> BentoMLException:
    exc.kind = kind  # type: ignore[attr-defined]
    return exc


def _registry_and_identity(service: VerificationService):
    """The approved-client registry, (encryption key, attestor) and the address prefix, from the environment."""
    from attest.config import AttestConfig
    from serving.attestor import Attestor

    registry: Any
    grpc = os.environ.get("VEID_CHAIN_GRPC")
    identity = None
    home = os.environ.get("VEID_VALIDATOR_HOME")
    prefix = load_section(PARAMS, "attest", AttestConfig).address_prefix
    if grpc:
        from chain_client.client import ChainClient
        from chain_client.config import ChainConfig
        from serving.chain_registry import ChainClientRegistry

        chain_cfg = load_section(PARAMS, "chain", ChainConfig)
        prefix = chain_cfg.prefix
        service.chain = ChainClient(grpc, chain_cfg)
        registry = ChainClientRegistry(service.chain)
    else:
        from pipelines.provenance.registry import JsonFileClientRegistry

        registry = JsonFileClientRegistry(os.environ.get("VEID_CLIENT_REGISTRY", "data/work/client_registry.json"))
    if home:
        from serving.daemon import ValidatorHome
        from serving.keydir import load_encryption_key

        vhome = ValidatorHome.read(home)
        validity = load_section(PARAMS, "attest", AttestConfig).attestation_validity_days
        identity = (load_encryption_key(home), Attestor(vhome.account_key(prefix), validity))
    return registry, identity, prefix
