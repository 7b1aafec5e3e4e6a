"""Typed settings of the verification server (``serving``) and the validator daemon (``validator``) in params.yaml."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServingConfig:
    """The ``serving`` section: the BentoML server and the pipeline it runs.

    Attributes:
        host: address ``veid serve`` binds (loopback by default).
        port: HTTP port.
        workers: BentoML worker processes (each loads every model once).
        timeout_s: per-request timeout, seconds (BentoML answers 504 past it).
        max_concurrency: requests in flight across all workers; more are answered 503 at once.
        max_upload_bytes: largest request body accepted, bytes (413 above).
        envelope_dir: content-addressed store of accepted envelopes (relative to the working directory).
        salt_db: SQLite replay store of the server (relative to the working directory).
        baseline_when_no_scorer: when the trained scorer (``scorer.scoring.model_dir``) is missing, score with the reference design's
            fixed scope weights (recorded as model ``veid-baseline-weights``) instead of refusing.
        threads: intra-op threads per worker (TensorFlow, OpenCV).
        api_threads: requests one worker runs at once (the rest of ``max_concurrency`` wait in line).
        embed_processes: helper processes per worker that run dlib's face ResNet, which holds the
            GIL and would otherwise serialise concurrent requests (0: run it in the request's thread).
        warm_up: run the models once on blank inputs while loading, so the first request does not pay
            for graph tracing.
        bento_model: BentoML model-store tag of the scorer to serve (``veid models-export``, e.g. ``veid-scorer:latest``);
            empty: use the repository's files.
    """

    host: str = "127.0.0.1"
    port: int = 3000
    workers: int = 1
    timeout_s: float = 60.0
    max_concurrency: int = 4
    max_upload_bytes: int = 16 * 1024 * 1024
    envelope_dir: str = "data/work/envelopes"
    salt_db: str = "data/work/serving_salts.sqlite"
    baseline_when_no_scorer: bool = True
    threads: int = 1
    api_threads: int = 2
    embed_processes: int = 2
    warm_up: bool = True
    bento_model: str = ""


@dataclass(frozen=True)
class ValidatorConfig:
    """The ``validator`` section: the daemon that turns chain requests into attestations.

    Attributes:
        poll_interval_s: seconds between polls of the chain for pending requests.
        max_attempts: tries per request when no judgement could be made (model or chain errors).
        retry_backoff_s: wait before retrying such a request, seconds (doubles per attempt).
        envelope_dir: shared envelope store the ``envelope_ref`` of uploads points into.
        scope_type: envelope context type of identity uploads.
        max_envelope_bytes: larger envelopes are refused before decryption, bytes.
    """

    poll_interval_s: float = 0.5
    max_attempts: int = 3
    retry_backoff_s: float = 2.0
    envelope_dir: str = "data/work/envelopes"
    scope_type: str = "identity_upload"
    max_envelope_bytes: int = 24 * 1024 * 1024
