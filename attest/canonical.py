"""Deterministic length-prefixed binary encoding used by envelopes (one writer, one strict reader).

Schema primitives (all integers big-endian, unsigned):

* ``u8``, ``u16``, ``u32``: fixed-width integers.
* ``fixed(n)``: exactly ``n`` raw bytes, no prefix.
* ``bytes16`` / ``bytes32``: a ``u16`` / ``u32`` length followed by that many bytes.
* ``str16``: a ``bytes16`` holding UTF-8 text.

The reader rejects anything a writer could not have produced: short input, lengths
beyond the remaining data or a declared maximum, invalid UTF-8 and trailing bytes
(:meth:`Reader.finish`). Every rejection is an :class:`EncodingError`.
"""

from __future__ import annotations

import struct

from veid.errors import CryptoError


class EncodingError(CryptoError):
    """Bytes that do not follow the canonical schema (truncated, oversized, trailing data)."""


class Writer:
    """Append-only builder of canonical bytes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, value: int) -> Writer:
        self._parts.append(_pack(">B", value))
        return self

    def u16(self, value: int) -> Writer:
        self._parts.append(_pack(">H", value))
        return self

    def u32(self, value: int) -> Writer:
        self._parts.append(_pack(">I", value))
        return self

    def fixed(self, data: bytes, length: int) -> Writer:
        if len(data) != length:
            raise EncodingError(f"expected exactly {length} bytes, got {len(data)}")
        self._parts.append(bytes(data))
        return self

    def bytes16(self, data: bytes) -> Writer:
        self.u16(len(data))
        self._parts.append(bytes(data))
        return self

    def bytes32(self, data: bytes) -> Writer:
        self.u32(len(data))
        self._parts.append(bytes(data))
        return self

    def str16(self, text: str) -> Writer:
        return self.bytes16(text.encode("utf-8"))

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    """Strict cursor over canonical bytes; every read checks the remaining length."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data if isinstance(data, bytes) else bytes(data))  # bytes are immutable: no copy
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def _take(self, n: int, what: str) -> bytes:
        if n > self.remaining:
            raise EncodingError(f"truncated input: {what} needs {n} bytes, {self.remaining} left")
        out = self._data[self._pos : self._pos + n].tobytes()
        self._pos += n
        return out

    def u8(self, what: str = "u8") -> int:
        return self._take(1, what)[0]

    def u16(self, what: str = "u16") -> int:
        return struct.unpack(">H", self._take(2, what))[0]

    def u32(self, what: str = "u32") -> int:
        return struct.unpack(">I", self._take(4, what))[0]

    def fixed(self, length: int, what: str = "fixed") -> bytes:
        return self._take(length, what)

    def bytes16(self, what: str = "bytes16", max_len: int = 0xFFFF) -> bytes:
        n = self.u16(what)
        if n > max_len:
            raise EncodingError(f"{what}: length {n} exceeds maximum {max_len}")
        return self._take(n, what)

    def bytes32(self, what: str = "bytes32", max_len: int = 0xFFFFFFFF) -> bytes:
        n = self.u32(what)
        if n > max_len:
            raise EncodingError(f"{what}: length {n} exceeds maximum {max_len}")
        return self._take(n, what)

    def str16(self, what: str = "str16", max_len: int = 0xFFFF) -> str:
        raw = self.bytes16(what, max_len)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(f"{what}: not valid UTF-8") from exc

    def finish(self) -> None:
        """Raise unless every byte has been consumed."""
        if self.remaining:
            raise EncodingError(f"{self.remaining} trailing bytes after the last field")


def _pack(fmt: str, value: int) -> bytes:
    try:
        return struct.pack(fmt, value)
    except struct.error as exc:
        raise EncodingError(f"integer {value!r} out of range for {fmt}") from exc
