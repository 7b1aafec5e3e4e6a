"""Verification statistics: error rates at a threshold, the threshold at a false-accept rate, person-level FRR and FAR intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipelines.face.evaluation import far_interval, frr_interval, rates_at, threshold_at_far
from veid.errors import InputError


def test_rates_at_a_threshold_count_matches_at_or_below_it():
    d = np.array([0.2, 0.4, 0.6, 0.3, 0.7, 0.9])
    same = np.array([True, True, True, False, False, False])
    r = rates_at(d, same, 0.5)
    assert r.frr == pytest.approx(1 / 3) and r.far == pytest.approx(1 / 3) and r.accuracy == pytest.approx(4 / 6)


def test_threshold_at_far_accepts_at_most_that_share_of_impostors():
    imp = np.linspace(0.3, 1.3, 1000)
    d, same = np.concatenate([imp, [0.1]]), np.concatenate([np.zeros(1000, bool), [True]])
    thr = threshold_at_far(d, same, 1e-3)
    assert (imp <= thr).sum() == 1
    with pytest.raises(InputError):
        threshold_at_far(np.array([0.1]), np.array([True]), 1e-3)


def test_one_hard_person_widens_the_frr_interval_beyond_its_pair_count():
    # 20 persons x 50 genuine pairs; one person holds all 40 rejects (FRR 4 %)
    persons = [f"P{k:02d}" for k in range(20) for _ in range(50)]
    rejected = np.zeros(1000, bool)
    rejected[:40] = True
    lo, hi = frr_interval(rejected, persons)
    assert lo == 0.0  # resamples without that person reject nothing
    assert hi > 0.1  # resamples with it twice or more
    # the same 40 rejects spread over all persons: a narrow interval around 4 %
    spread = np.zeros(1000, bool)
    spread[::25] = True
    lo2, hi2 = frr_interval(spread, persons)
    assert lo2 == pytest.approx(0.04, abs=0.005) and hi2 == pytest.approx(0.04, abs=0.005)
    assert all(math.isnan(v) for v in frr_interval(np.zeros(0, bool), []))


def _person_pairs(n: int, reps: int):
    return ([f"P{i:02d}" for i in range(n) for j in range(n) if i != j for _ in range(reps)],
            [f"P{j:02d}" for i in range(n) for j in range(n) if i != j for _ in range(reps)])


def test_one_look_alike_person_pair_widens_the_far_interval():
    # 20 persons, 380 ordered person pairs x 10 comparisons; one person pair holds all 10 false accepts
    pa, pb = _person_pairs(20, 10)
    accepted = np.zeros(len(pa), bool)
    accepted[[k for k, (a, b) in enumerate(zip(pa, pb)) if (a, b) == ("P00", "P01")]] = True
    rate = accepted.mean()
    lo, hi = far_interval(accepted, pa, pb)
    assert lo == 0.0  # resamples without P00 or P01 accept nobody
    assert hi > 2.5 * rate  # resamples that draw them twice
    # one accept in every person pair: each resample sees the same 10 %
    spread = np.zeros(len(pa), bool)
    spread[::10] = True
    assert far_interval(spread, pa, pb) == pytest.approx((0.1, 0.1))
    assert far_interval(np.ones(len(pa), bool), pa, pb) == (1.0, 1.0)
    assert all(math.isnan(v) for v in far_interval(np.zeros(0, bool), [], []))
