"""VEID core: shared contracts (configuration, errors, types, logging, CLI) for every stage."""

__version__ = "0.1.0"
PIPELINE_VERSION = __version__
