"""The daemon's durable progress: request states survive reopening; salts serve one request only."""

from __future__ import annotations

from serving.progress import ProgressStore, ScopedSaltClaims, Status


def test_states_survive_reopen(tmp_path):
    db = tmp_path / "p.sqlite"
    s = ProgressStore(db)
    assert s.ensure("scope-1").status is Status.NEW
    s.record_attested("scope-1", b"msg-bytes")
    s.close()
    s = ProgressStore(db)
    row = s.get("scope-1")
    assert row.status is Status.ATTESTED and row.payload == b"msg-bytes"
    s.record_submitted("scope-1", "ABC")
    assert s.get("scope-1").status is Status.SUBMITTED and s.get("scope-1").tx_hash == "ABC"
    assert s.ensure("scope-1").status is Status.SUBMITTED  # ensure never resets
    assert s.counts() == {Status.SUBMITTED: 1}


def test_failures_back_off_then_give_up(tmp_path):
    s = ProgressStore(tmp_path / "p.sqlite")
    r1 = s.record_failure("scope-2", "ModelError: x", max_attempts=2, backoff_s=10.0)
    assert r1.status is Status.NEW and r1.attempts == 1 and r1.next_try > 0
    r2 = s.record_failure("scope-2", "ModelError: x", max_attempts=2, backoff_s=10.0)
    assert r2.status is Status.GAVE_UP and r2.attempts == 2
    # A refused attestation keeps its recorded bytes and is retried with the same backoff.
    s.record_attested("scope-3", b"m")
    r3 = s.record_failure("scope-3", "refused", max_attempts=2, backoff_s=0)
    assert r3.status is Status.ATTESTED and r3.payload == b"m" and r3.attempts == 1


def test_salts_scoped_to_one_request(tmp_path):
    s = ProgressStore(tmp_path / "p.sqlite")
    a, b = ScopedSaltClaims(s, "scope-a"), ScopedSaltClaims(s, "scope-b")
    assert a.claim(b"s" * 32, 0, "app")
    assert a.claim(b"s" * 32, 0, "app")  # the same request, resumed after a crash
    assert not b.claim(b"s" * 32, 0, "app")  # another request replaying the capture
    assert b.claim(b"t" * 32, 0, "app")
