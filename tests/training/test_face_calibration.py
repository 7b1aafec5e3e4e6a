"""Face calibration: threshold rules (pair-level, person-weighted, identity bootstrap) and which pairs calibrate."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pipelines.face import evaluation as ev
from training.face_calibration import (
    FaceCalibrationConfig,
    identity_bootstrap_threshold,
    person_split_rates,
    weighted_threshold_at_far,
)


def test_equal_weights_match_the_pair_level_threshold():
    rng = np.random.default_rng(1)
    d = rng.uniform(0.3, 1.0, 5000)
    same = np.zeros(d.size, bool)
    for far in (1e-3, 1e-2, 0.1):
        assert weighted_threshold_at_far(d, np.ones(d.size), far) == pytest.approx(ev.threshold_at_far(d, same, far))


def test_weighted_threshold_known_answer():
    d = np.array([0.4, 0.1, 0.3, 0.2])
    # weight shares sorted by distance: 0.1 -> 1%, 0.2 -> 1%, 0.3 -> 1%, 0.4 -> 97%: two may be accepted at 2%
    assert weighted_threshold_at_far(d, np.array([97.0, 1, 1, 1]), 0.02) == pytest.approx(0.25)
    # nothing may be accepted: halfway below the smallest distance
    assert weighted_threshold_at_far(d, np.array([97.0, 1, 1, 1]), 0.001) == pytest.approx(0.09)


def _impostors(n_persons: int, rng: np.random.Generator):
    pa, pb, d = [], [], []
    for i in range(n_persons):
        for j in range(n_persons):
            if i != j:
                pa.append(f"P{i:02d}")
                pb.append(f"P{j:02d}")
                d.append(rng.uniform(0.5, 1.0))
    return np.asarray(d), np.zeros(len(d), bool), np.asarray(pa), np.asarray(pb)


def test_identity_bootstrap_is_deterministic_and_returns_its_quantile():
    d, same, pa, pb = _impostors(15, np.random.default_rng(2))
    thr, all_thr = identity_bootstrap_threshold(d, same, pa, pb, 0.01, rounds=50, quantile=0.1, seed=7)
    thr2, all_thr2 = identity_bootstrap_threshold(d, same, pa, pb, 0.01, rounds=50, quantile=0.1, seed=7)
    assert thr == thr2 and np.array_equal(all_thr, all_thr2)
    assert thr == pytest.approx(float(np.quantile(all_thr, 0.1)))
    assert thr <= float(np.median(all_thr))


def test_identity_bootstrap_weighs_each_person_pair_once():
    """Repeating one person pair's comparison many times (many samples of two persons) changes nothing."""
    d, same, pa, pb = _impostors(15, np.random.default_rng(3))
    base, _ = identity_bootstrap_threshold(d, same, pa, pb, 0.01, rounds=30, quantile=0.2, seed=1)
    rep, i = 200, int(np.argmax(d))  # repeat a comparison far from the tail (the cut never falls inside it)
    d2 = np.concatenate([d, np.full(rep, d[i])])
    pa2, pb2 = np.concatenate([pa, np.repeat(pa[i], rep)]), np.concatenate([pb, np.repeat(pb[i], rep)])
    again, _ = identity_bootstrap_threshold(d2, np.zeros(d2.size, bool), pa2, pb2, 0.01, rounds=30, quantile=0.2, seed=1)
    assert again == pytest.approx(base)
    # the pair-level rule, by contrast, is moved by the repeats
    assert ev.threshold_at_far(d2, np.zeros(d2.size, bool), 0.01) != pytest.approx(ev.threshold_at_far(d, same, 0.01))


def test_person_split_rates_sets_the_threshold_without_the_persons_it_measures():
    """One look-alike person P00 (all its impostor pairs at 0.5) and one weak genuine person P01: the
    rule sees one half, the rates come from the other, so FAR is high exactly when P00 was unseen."""
    rng = np.random.default_rng(4)
    d, same, pa, pb = _impostors(12, rng)
    d = 0.8 + 0.4 * (d - 0.5)  # other impostors at 0.8-1.0, beyond either threshold
    d[(pa == "P00") | (pb == "P00")] = 0.5
    gen_persons = np.asarray([f"P{k:02d}" for k in range(12)])
    d = np.concatenate([d, np.where(gen_persons == "P01", 0.9, 0.2)])
    same = np.concatenate([same, np.ones(12, bool)])
    pa, pb = np.concatenate([pa, gen_persons]), np.concatenate([pb, gen_persons])
    seen: list[set[str]] = []

    def choose(d_, y_, pa_, pb_):
        seen.append(set(pa_) | set(pb_))
        return 0.55 if "P00" in seen[-1] else 0.7  # a rule that learns from the look-alike when it sees it

    out = person_split_rates(d, same, pa, pb, choose, rounds=30, seed=0)
    assert out.shape == (30, 2) and len(seen) == 30
    for fit, (far, frr) in zip(seen, out):
        assert len(fit) == 6  # half of the 12 persons
        # P00 unseen: the 0.7 rule accepts P00's pairs in the other half, 10 of the 30 impostor pairs
        assert far == pytest.approx(10 / 30 if "P00" not in fit else 0.0)
        assert frr == pytest.approx(1 / 6 if "P01" not in fit else 0.0)
    assert 0 < sum("P00" in f for f in seen) < 30


def test_config_refuses_held_out_persons_in_calibration():
    with pytest.raises(ValueError, match="held-out"):
        FaceCalibrationConfig(synth_split_weights=(0.3, 0.5, 0.2))
    with pytest.raises(ValueError, match="evaluation split"):
        FaceCalibrationConfig(impostor_portrait_splits=("train", "test"))


def _sample(sid, split, portrait, selfie):
    return SimpleNamespace(id=sid, split=split, portrait_box_flat=(0, 0, 10, 10), portrait_source=portrait,
                           selfie=f"selfies/{sid}.jpg" if selfie else None, selfie_source=selfie)


def test_portrait_selfie_pairs_labels():
    samples = [
        _sample("a1", "val", "P1_1.jpg", "P1_2.jpg"),
        _sample("a2", "val", "P1_2.jpg", "P1_1.jpg"),
        _sample("b1", "val", "P2_1.jpg", "P2_2.jpg"),
        _sample("t1", "train", "P3_1.jpg", None),   # single-photo person: impostor portrait only
        _sample("x1", "test", "P4_1.jpg", "P4_2.jpg"),  # held out: never paired
    ]
    ps = ev.portrait_selfie_pairs(samples, {"val"}, "flat", {"train"})
    pairs = {(a, b): bool(s) for a, b, s in zip(ps.a, ps.b, ps.same)}
    # a1's portrait is P1_1; a2's selfie is P1_1 too: the same photo, left out (a photographed card)
    assert ("flat:a1", "selfie:a2") not in pairs and ("flat:a2", "selfie:a1") not in pairs
    assert pairs[("flat:a1", "selfie:a1")] is True and pairs[("flat:a2", "selfie:a2")] is True
    assert pairs[("flat:b1", "selfie:a1")] is False and pairs[("flat:t1", "selfie:b1")] is False
    assert not any(k.endswith("x1") for pair in pairs for k in pair)
    assert not any(b == "selfie:t1" for _, b in pairs)
    assert set(zip(ps.person_a, ps.person_b)) >= {("P1", "P1"), ("P3", "P2")}
