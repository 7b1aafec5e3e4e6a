"""JSON Canonicalization Scheme (RFC 8785) through the ``rfc8785`` package, with our errors."""

from __future__ import annotations

from typing import Any

import rfc8785

from veid.errors import InputError


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Raises:
        InputError: the value holds something JSON cannot represent (NaN, non-string keys,
            integers beyond IEEE 754 double precision, unsupported types).
    """
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(f"value cannot be canonicalized as JSON (RFC 8785): {exc}") from exc
