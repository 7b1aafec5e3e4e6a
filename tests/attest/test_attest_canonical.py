"""Canonical binary encoding: writer/reader round trips and strict rejection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attest.canonical import EncodingError, Reader, Writer


@given(a=st.integers(0, 255), b=st.integers(0, 65535), c=st.integers(0, 2**32 - 1),
       raw=st.binary(max_size=300), text=st.text(max_size=100), fixed=st.binary(min_size=7, max_size=7))  # fmt: skip
def test_roundtrip(a: int, b: int, c: int, raw: bytes, text: str, fixed: bytes) -> None:
    data = Writer().u8(a).u16(b).u32(c).bytes16(raw).bytes32(raw).str16(text).fixed(fixed, 7).getvalue()
    r = Reader(data)
    assert (r.u8(), r.u16(), r.u32(), r.bytes16(), r.bytes32(), r.str16(), r.fixed(7)) == (a, b, c, raw, raw, text, fixed)
    r.finish()
    for n in range(len(data)):  # every strict prefix is rejected somewhere
        r = Reader(data[:n])
        with pytest.raises(EncodingError):
            r.u8(), r.u16(), r.u32(), r.bytes16(), r.bytes32(), r.str16(), r.fixed(7)
            r.finish()


def test_limits() -> None:
    with pytest.raises(EncodingError):
        Writer().u8(256)
    with pytest.raises(EncodingError):
        Writer().fixed(b"abc", 4)
    with pytest.raises(EncodingError, match="exceeds"):
        Reader(Writer().bytes16(b"x" * 10).getvalue()).bytes16(max_len=9)
    with pytest.raises(EncodingError, match="UTF-8"):
        Reader(Writer().bytes16(b"\xff").getvalue()).str16()
    with pytest.raises(EncodingError, match="trailing"):
        Reader(b"\x00").finish()
