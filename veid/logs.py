"""Logging that never prints personal data.

Personal values (names, dates of birth, ID numbers, images) must be passed through
:func:`redact` before they reach a log line: it replaces the value with a short keyed hash
so that two log lines about the same value can be correlated without revealing it.
A filter on the ``veid`` logger also masks anything that looks like an MRZ line or a long
digit run, as a second line of defence.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re

_MASKS = (
    re.compile(r"[A-Z0-9<]{30,44}"),  # MRZ lines
    re.compile(r"\b\d{6,}\b"),  # long digit runs (ID numbers, dates written as digits)
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # ISO dates
)
_KEY = os.environ.get("VEID_LOG_SALT", "veid-log").encode()


def redact(value: object) -> str:
    """A stable, non-reversible tag for a personal value, e.g. ``<pii:3fa2c1d0>``."""
    digest = hashlib.blake2s(str(value).encode("utf-8"), key=_KEY[:32], digest_size=4).hexdigest()
    return f"<pii:{digest}>"


class PiiMaskFilter(logging.Filter):
    """Masks MRZ-like strings, long digit runs and ISO dates in formatted log messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for pattern in _MASKS:
            message = pattern.sub(lambda m: redact(m.group(0)), message)
        record.msg, record.args = message, None
        return True


def get_logger(name: str) -> logging.Logger:
    """A logger under the ``veid`` hierarchy with the PII mask filter attached."""
    logger = logging.getLogger(name if name.startswith("veid") else f"veid.{name}")
    if not any(isinstance(f, PiiMaskFilter) for f in logger.filters):
        logger.addFilter(PiiMaskFilter())
    return logger


def setup_logging(level: str = "INFO") -> None:
    """Configure the root handler once for command-line entry points."""
    handler = logging.StreamHandler()
    handler.addFilter(PiiMaskFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
