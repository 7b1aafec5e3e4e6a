"""IdentityVerifier: provenance verdict + document + face + web scopes -> features -> score, tier and reasons.

Models load once (:meth:`IdentityVerifier.load`) and are shared by every request. A failed
check is data (a :class:`CheckResult` that lowers the score); an exception (``ModelError``,
``StageError``) means no judgement could be made and the caller fails closed.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipelines.face.verify import FaceConfig
from pipelines.provenance.verify import ProvenanceConfig, ProvenanceResult
from pipelines.scoring.evidence import Evidence, LivenessEvidence, ProvenanceEvidence, SelfieEvidence
from pipelines.scoring.features import FeatureVector, build_features
from pipelines.scoring.scorer import ScoringConfig
from serving.config import ServingConfig
from serving.document_stage import DocumentStage, DocumentStageResult, load_document_stage
from serving.scoring_stage import Scorer, ScoreResult, TierPolicy, load_scorer, reason_codes
from veid import __version__
from veid.config import DEFAULT_PARAMS, load_section
from veid.errors import ConfigError, InputError, ModelError
from veid.logs import get_logger
from veid.types import CheckResult, ModelVersion

_LOG = get_logger("veid.serving.verifier")
PIPELINE_VERSION = f"veid-{__version__}"


@dataclass(frozen=True)
class PipelineSettings:
    """Everything the verifier reads from params.yaml (entry points build it; library code receives it)."""

    serving: ServingConfig = field(default_factory=ServingConfig)
    face: FaceConfig = field(default_factory=FaceConfig)
    provenance: ProvenanceConfig = field(default_factory=ProvenanceConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    params: str = str(DEFAULT_PARAMS)

    @property
    def tiers(self) -> TierPolicy:
        return TierPolicy.from_scoring(self.scoring)

    @classmethod
    def from_params(cls, path: str | Path = DEFAULT_PARAMS) -> "PipelineSettings":
        """Read the ``serving``, ``face``, ``provenance`` and ``scorer.scoring`` sections."""
        return cls(load_section(path, "serving", ServingConfig), load_section(path, "face", FaceConfig),
                   load_section(path, "provenance", ProvenanceConfig), load_section(path, "scorer.scoring", ScoringConfig),
                   str(path))


@dataclass(frozen=True)
class VerificationOutcome:
    """The verdict on one identity upload.

    Attributes:
        subject: account address the upload belongs to.
        score: integer identity score 0-100.
        tier: tier of the score.
        probability: scorer probability of a genuine person (0-1).
        reason_codes: short codes explaining the score.
        checks: every check that ran (failed ones lower the score).
        evidence: the typed evidence that was scored.
        features: the feature vector that was scored.
        face_distance: selfie vs document portrait embedding distance (None: no comparison).
        fields: document fields read, ``(name, value)``; personal data, never put in attestations.
        model_versions: models that produced the score.
        stage_seconds: ``(stage, seconds)`` wall time of each stage.
        document_source: which document stage ran (``full``, ``mrz_only``).
    """

    subject: str
    score: int
    tier: str
    probability: float
    reason_codes: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    evidence: Evidence
    features: FeatureVector
    face_distance: float | None
    fields: tuple[tuple[str, str], ...]
    model_versions: tuple[ModelVersion, ...]
    stage_seconds: tuple[tuple[str, float], ...]
    document_source: str

    @property
    def failed_checks(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if not c.passed)

    def scope_summaries(self) -> tuple[tuple[str, bool, int], ...]:
        """``(scope, passed, score 0-100)`` per attempted scope (no personal data)."""
        out = []
        for name in ("document", "selfie", "liveness", "provenance", "email", "sms", "sso", "domain", "biometric"):
            ev = getattr(self.evidence, name)
            if ev is None:
                continue
            prefix = {"selfie": "face."}.get(name, f"{name}.")
            mine = [c for c in self.checks if c.name.startswith(prefix)]
            if mine:
                passed = all(c.passed for c in mine)
                score = int(round(100 * float(np.mean([min(max(c.score, 0.0), 1.0) for c in mine]))))
            else:
                passed = bool(getattr(ev, "verified", getattr(ev, "passed", True)))
                score = 100 if passed else 0
            out.append((name, passed, score))
        return tuple(out)


class IdentityVerifier:
    """``IdentityVerifier.load(settings).verify(document, selfie, web_evidence, ...) -> VerificationOutcome``.

    Args:
        settings: pipeline settings.
        face: a loaded ``FaceVerifier``, or None when face models/calibration are unavailable.
        document: the document stage.
        scorer: the scorer.
        attack_signals: ``PresentationAttackSignals`` (screen replay / print attack).
    """

    def __init__(self, settings: PipelineSettings, face, document: DocumentStage, scorer: Scorer, attack_signals) -> None:
        self.settings = settings
        self.face = face
        self.document = document
        self.scorer = scorer
        self.attack_signals = attack_signals
        self.face_unavailable_reason = ""
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="veid-document")

    @classmethod
    def load(cls, settings: PipelineSettings, *, require_face: bool = False) -> "IdentityVerifier":
        """Load every model once.

        Args:
            require_face: raise instead of running without the face stage when its models or
                calibration are missing.

        Raises:
            ModelError, ConfigError: a required model is missing or broken.
        """
        _pin_threads(settings.serving.threads)
        from pipelines.face.liveness import PresentationAttackSignals

        face, why = None, ""
        try:
            from pipelines.face.models import FaceModels
            from pipelines.face.verify import FaceVerifier

            face = FaceVerifier(settings.face, FaceModels.load(embed_processes=settings.serving.embed_processes))
        except (ModelError, ConfigError) as exc:
            if require_face:
                raise
            why = str(exc)
            _LOG.warning("face stage unavailable, selfies will not be compared: %s", why)
        scoring = settings.scoring
        if settings.serving.bento_model:  # a scorer exported by `veid models-export`, checked against its digest
            from serving.models_export import exported_path

            scoring = replace(scoring, model_dir=str(exported_path(settings.serving.bento_model)))
        scorer = load_scorer(scoring, settings.serving.baseline_when_no_scorer)
        # The document stage gets its own MTCNN: it runs in another thread beside the face stage.
        document = load_document_stage(settings.params)
        verifier = cls(settings, face, document, scorer, PresentationAttackSignals(settings.face.liveness))
        verifier.face_unavailable_reason = why
        if settings.serving.warm_up:
            verifier.warm_up()
        return verifier

    def warm_up(self) -> None:
        """Run the models once on blank inputs so that graph tracing is paid at start-up, not by the first
        request (measured: see ``serving.warm_up`` in params.yaml). Blank inputs find nothing, so no stage
        state is touched."""
        t = time.perf_counter()
        if hasattr(self.document, "warm_up"):
            self.document.warm_up()
        if self.face is not None:
            for shape in ((480, 640, 3), (640, 480, 3)):
                self.face.detect(np.full(shape, 255, np.uint8))
        _LOG.info("models warmed up in %.1f s", time.perf_counter() - t)

    @property
    def model_versions(self) -> tuple[ModelVersion, ...]:
        face = tuple(self.face.models.versions) if self.face is not None else ()
        return tuple(self.document_models) + face + (self.scorer.version,)

    @property
    def document_models(self) -> tuple[ModelVersion, ...]:
        return tuple(getattr(self.document, "models", ()))

    def verify(self, document: bytes, selfie: bytes, web_evidence: Evidence | None = None, *,
               subject: str, provenance: ProvenanceResult | None = None, now_s: float | None = None) -> VerificationOutcome:
        """Verify one identity: document photo, selfie, client-reported web scopes and the provenance verdict.

        Args:
            document: encoded document photo.
            selfie: encoded selfie.
            web_evidence: email/sms/sso/domain/biometric/metadata evidence (others are ignored).
            subject: the account address.
            provenance: the capture's provenance verdict; None when there was no signed capture (local use).
            now_s: Unix time, seconds, for expiry (the request's block time on a chain: identical for every validator).

        Raises:
            ModelError, StageError: no judgement could be made.
        """
        from pipelines.face.image_io import load_rgb
        from pipelines.face.liveness import identical_portrait_check

        now_s = time.time() if now_s is None else now_s
        timings: list[tuple[str, float]] = []
        checks: list[CheckResult] = []
        web = web_evidence or Evidence()
        evidence = Evidence(email=web.email, sms=web.sms, sso=web.sso, domain=web.domain,
                            biometric=web.biometric, metadata=web.metadata)

        t = time.perf_counter()
        doc_rgb = selfie_rgb = None
        try:
            doc_rgb = load_rgb(document)
        except InputError as exc:
            checks.append(CheckResult("document.decodable", False, 0.0, str(exc)))
        try:
            selfie_rgb = load_rgb(selfie)
        except InputError as exc:
            checks.append(CheckResult("face.selfie_decodable", False, 0.0, str(exc)))
        timings.append(("decode", time.perf_counter() - t))

        # The document stage runs in another thread. It hands over the upright portrait as soon as orientation has
        # found it; meanwhile this thread observes the selfie and computes the attack signals, then observes the
        # portrait while the document's text stages still run (no second face search of the whole photo).
        doc_future = portrait_future = None
        if doc_rgb is not None:
            portrait_future = Future()
            doc_future = self._pool.submit(_timed, self.document, doc_rgb, now_s, on_portrait=portrait_future.set_result)

        t = time.perf_counter()
        distance, selfie_ev, portrait_found = None, None, None
        selfie_obs, selfie_failure = None, None
        if self.face is not None and doc_rgb is not None and selfie_rgb is not None:
            try:
                selfie_obs = self.face.observe(selfie_rgb, label="selfie")
            except InputError as exc:
                selfie_failure = CheckResult("face.selfie_face", False, 0.0, str(exc))
                selfie_ev = SelfieEvidence(distance=1.0, match=False, quality=0.0)
        face_seconds = time.perf_counter() - t

        t = time.perf_counter()
        doc_signals = self.attack_signals(doc_rgb) if doc_rgb is not None else None
        selfie_signals = list(self.attack_signals(selfie_rgb)) if selfie_rgb is not None else None
        liveness_seconds = time.perf_counter() - t

        t = time.perf_counter()
        if self.face is None:
            checks.append(CheckResult("face.stage_available", False, 0.0,
                                      f"face stage not loaded: {self.face_unavailable_reason}"[:200]))
        elif doc_rgb is not None and selfie_rgb is not None:
            wait([portrait_future, doc_future], return_when=FIRST_COMPLETED)  # the portrait, or a document without one
            portrait = portrait_future.result() if portrait_future.done() else None
            doc_obs = None
            try:
                doc_obs = self._observe_document_face(doc_rgb, portrait)
                portrait_found = True
            except InputError as exc:
                portrait_found = False
                checks.append(CheckResult("face.document_portrait", False, 0.0, str(exc)))
            if selfie_failure is not None:
                checks.append(selfie_failure)
            if doc_obs is not None and selfie_obs is not None:
                match = self.face.compare_observations(doc_obs, selfie_obs)
                distance = match.distance
                checks.append(CheckResult("face.match", match.match, match.probability,
                                          "" if match.match else f"faces differ (score {match.score:.3f} > {match.threshold:.3f})"))
                checks.extend(match.checks)
                quality = float(np.mean([1.0 if c.passed else 0.0 for c in match.checks])) if match.checks else 1.0
                selfie_ev = SelfieEvidence(distance=float(round(distance, 9)), match=match.match, quality=quality)
                checks.append(identical_portrait_check(doc_obs.aligned.chip, selfie_obs.aligned.chip, self.settings.face.liveness))
        timings.append(("face", face_seconds + time.perf_counter() - t))
        if doc_future is not None:
            doc_result, doc_seconds = doc_future.result()
            checks[_first_face_check(checks):_first_face_check(checks)] = list(doc_result.checks)
            timings.append(("document", doc_seconds))
        else:
            doc_result = DocumentStageResult(None, (), (), (), self.document.source)

        screen_doc = print_doc = None
        if doc_signals is not None:
            screen_doc, print_doc = doc_signals
            checks.extend(_renamed(c, "provenance.document_") for c in (screen_doc, print_doc))
        if selfie_signals is not None:
            live = selfie_signals + [c for c in checks if c.name == "liveness.selfie_is_document_portrait"]
            checks.extend(_renamed(c, "liveness.selfie_") for c in live[:2])
            evidence = replace(evidence, liveness=LivenessEvidence(
                score=float(min(min(max(c.score, 0.0), 1.0) for c in live)), passed=all(c.passed for c in live), video=False))
        timings.append(("liveness", liveness_seconds))

        if doc_result.evidence is not None:
            doc_ev = doc_result.evidence
            if portrait_found is not None:
                doc_ev = replace(doc_ev, portrait_found=portrait_found)
            evidence = replace(evidence, document=doc_ev)
        if selfie_ev is not None:
            evidence = replace(evidence, selfie=selfie_ev)
        if provenance is not None:
            evidence = replace(evidence, provenance=ProvenanceEvidence(
                capture_signed=provenance.accepted,
                screen_replay_score=0.0 if screen_doc is None or screen_doc.passed else 1.0,
                print_attack_score=0.0 if print_doc is None or print_doc.passed else 1.0))
            checks.insert(0, provenance.check)

        t = time.perf_counter()
        features = build_features(evidence)
        result: ScoreResult = self.scorer(features, evidence)
        timings.append(("score", time.perf_counter() - t))
        failed = tuple(c.name for c in checks if not c.passed)
        models = tuple(doc_result.models) + (tuple(self.face.models.versions) if self.face else ()) + (result.model,)
        return VerificationOutcome(
            subject=subject, score=result.score, tier=self.settings.tiers.tier(result.score),
            probability=result.probability, reason_codes=reason_codes(result.reasons, failed), checks=tuple(checks),
            evidence=evidence, features=features, face_distance=distance, fields=doc_result.fields,
            model_versions=models, stage_seconds=tuple(timings), document_source=doc_result.source,
        )

    def _observe_document_face(self, doc_rgb: np.ndarray, portrait: np.ndarray | None):
        """The document's face: from the upright portrait crop when the document stage cut one (a small image, and
        upright even when the photo was turned), else, or when that crop yields no face, from the whole photo.

        Raises:
            InputError: no face either way.
        """
        if portrait is not None:
            try:
                return self.face.observe(portrait, label="document")
            except InputError:
                pass
        return self.face.observe(doc_rgb, label="document")

    def score_features(self, features: FeatureVector, evidence: Evidence | None = None) -> tuple[ScoreResult, str]:
        """Score precomputed features; returns the result and its tier."""
        result = self.scorer(features, evidence or Evidence())
        return result, self.settings.tiers.tier(result.score)


def rejection_outcome(subject: str, reason: str, tiers: TierPolicy, check: CheckResult) -> VerificationOutcome:
    """The judgement on an upload that failed before any stage ran (bad provenance, unreadable envelope): score 0."""
    evidence = Evidence()
    return VerificationOutcome(
        subject=subject, score=0, tier=tiers.tier(0), probability=0.0, reason_codes=(f"rejected.{reason}"[:64],),
        checks=(check,), evidence=evidence, features=build_features(evidence), face_distance=None, fields=(),
        model_versions=(), stage_seconds=(), document_source="none",
    )


def _timed(fn, *args, **kwargs):
    t = time.perf_counter()
    return fn(*args, **kwargs), time.perf_counter() - t


def _first_face_check(checks: list[CheckResult]) -> int:
    return next((i for i, c in enumerate(checks) if c.name.startswith(("face.", "liveness."))), len(checks))


def _renamed(check: CheckResult, prefix: str) -> CheckResult:
    name = check.name.split(".", 1)[-1]
    return CheckResult(prefix + name, check.passed, check.score, check.reason)


def _pin_threads(threads: int) -> None:
    """Fix intra-op thread counts so that every validator computes the same numbers."""
    import cv2

    cv2.setNumThreads(max(threads, 1))
    for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(var, str(max(threads, 1)))
