"""The content-addressed envelope store."""

from __future__ import annotations

import pytest

from serving.envelope_store import EnvelopeStore, envelope_ref
from veid.errors import InputError


def test_put_get_idempotent(tmp_path):
    store = EnvelopeStore(tmp_path / "s")
    ref = store.put(b"sealed bytes")
    assert ref == envelope_ref(b"sealed bytes") and ref.startswith("sha256:") and len(ref) == 71
    assert store.put(b"sealed bytes") == ref and store.count() == 1
    assert store.get(ref) == b"sealed bytes" and store.exists(ref)


def test_missing_corrupted_and_bad_refs(tmp_path):
    store = EnvelopeStore(tmp_path / "s", max_bytes=100)
    ref = store.put(b"abc")
    path = tmp_path / "s" / ref[7:9] / ref[9:]
    path.write_bytes(b"abd")
    with pytest.raises(InputError, match="does not hash"):
        store.get(ref)
    with pytest.raises(InputError, match="not in the store"):
        store.get(envelope_ref(b"other"))
    for bad in ("sha256:" + "g" * 64, "../../etc/passwd", "sha256:" + "a" * 63, "md5:" + "a" * 64):
        with pytest.raises(InputError, match="sha256"):
            store.get(bad)
    big = store.put(b"x" * 101)
    with pytest.raises(InputError, match="more than"):
        store.get(big)
