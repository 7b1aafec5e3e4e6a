"""VEID's one exception tree.

An exception means that no judgement could be made; a check that ran and failed is data
(:class:`veid.types.CheckResult`), never an exception. Boundaries to dependencies map the
dependency's exceptions into these with ``raise OurError(...) from exc``.
"""


class VeidError(Exception):
    """Base class of every error VEID raises on purpose."""


class ConfigError(VeidError):
    """The configuration (params.yaml or a section of it) is missing, unknown or mistyped."""


class InputError(VeidError):
    """The caller's input cannot be processed: not an image, truncated, too large, no document in view."""


class StageError(VeidError):
    """A pipeline stage could not produce a result for an input that was itself acceptable."""


class ModelError(VeidError):
    """A model could not be built, loaded or verified (missing file, hash mismatch, bad config)."""


class CryptoError(VeidError):
    """A signature, envelope, key or attestation failed verification or could not be produced."""


class ChainError(VeidError):
    """The chain refused a transaction, could not be reached, or answered something unexpected."""


class AdapterError(VeidError):
    """An external system (Waldur, SLURM, Kubernetes, SMTP, DNS) failed or answered unexpectedly."""
