"""Cohort score normalisation: known answers on hand-made cohorts, leave-out masks, file round trip, errors."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.face.cohort import Cohort, CohortConfig, CohortNormalizer
from veid.errors import ConfigError


def _unit(i: int, scale: float = 1.0) -> np.ndarray:
    v = np.zeros(128)
    v[i] = scale
    return v


def _cohort(rows: list[np.ndarray]) -> Cohort:
    arr = np.stack(rows)
    return Cohort(arr, arr + 0.5)


def test_scale_is_the_mean_distance_to_the_k_nearest_cohort_faces():
    norm = CohortNormalizer(_cohort([_unit(0), _unit(1), _unit(2, 3.0)]), k=2)
    probe = np.zeros(128)
    assert norm.scale(probe, grey=False) == pytest.approx(1.0)  # two nearest at distance 1, the third at 3
    assert norm.scale(probe, grey=True) != pytest.approx(1.0)  # the grey table is another cohort
    exclude = np.asarray([True, False, False])
    assert norm.scale(probe, grey=False, exclude=exclude) == pytest.approx(2.0)  # (1 + 3) / 2


def test_crowded_faces_score_higher_than_lonely_ones_at_the_same_distance():
    """Two faces at distance 0.5 from each other: near the cohort (crowded) they look more alike than
    they are; far from it (lonely, an aged or blurred capture) less. The score evens that out."""
    cohort = _cohort([_unit(i, 1.0) for i in range(10)])
    norm = CohortNormalizer(cohort, k=3)
    near_a, near_b = _unit(0, 0.9), _unit(0, 0.9) + _unit(20, 0.5)
    far_a, far_b = _unit(30, 3.0), _unit(30, 3.0) + _unit(20, 0.5)
    assert np.linalg.norm(near_a - near_b) == pytest.approx(np.linalg.norm(far_a - far_b))
    assert norm.score(0.5, near_a, near_b, False) > norm.score(0.5, far_a, far_b, False)
    sa, sb = norm.scale(far_a, False), norm.scale(far_b, False)
    assert norm.score(0.5, far_a, far_b, False) == pytest.approx(0.5 / np.sqrt(sa * sb))


def test_cohort_file_round_trip_and_hash(tmp_path):
    rng = np.random.default_rng(0)
    cohort = Cohort(rng.normal(size=(12, 128)), rng.normal(size=(12, 128)))
    path = tmp_path / "cohort.npz"
    cohort.save(path)
    back = Cohort.load(path)
    assert len(back) == 12 and back.sha256() == cohort.sha256()  # stored as float32, hashed as float32
    assert not list(tmp_path.glob("*.tmp*"))
    other = Cohort(cohort.colour + 1e-3, cohort.grey)
    assert other.sha256() != cohort.sha256()


def test_bad_cohorts_and_settings_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="run the face_calibration stage"):
        Cohort.load(tmp_path / "missing.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigError):
        Cohort.load(tmp_path / "bad.npz")
    with pytest.raises(ConfigError, match="two \\(n, 128\\) arrays"):
        Cohort(np.zeros((3, 64)), np.zeros((3, 64)))
    with pytest.raises(ConfigError, match="NaN"):
        Cohort(np.full((3, 128), np.nan), np.zeros((3, 128)))
    with pytest.raises(ConfigError, match="exceeds"):
        CohortNormalizer(_cohort([_unit(0), _unit(1)]), k=3)
    with pytest.raises(ConfigError, match="at least 1"):
        CohortConfig(k=0)
    norm = CohortNormalizer(_cohort([_unit(0), _unit(1)]), k=2)
    with pytest.raises(ConfigError, match="cohort faces left"):
        norm.scale(np.zeros(128), False, exclude=np.asarray([True, False]))


def test_calibration_records_what_its_threshold_applies_to(tmp_path):
    from pipelines.face.verify import FaceCalibration, _normalizer

    with pytest.raises(ConfigError, match="'distance' or 'cohort'"):
        FaceCalibration(0.5, 1e-3, 1.0, 0.0, score="cosine")
    with pytest.raises(ConfigError, match="cohort_k"):
        FaceCalibration(0.5, 1e-3, 1.0, 0.0, score="cohort")
    assert _normalizer(FaceCalibration(0.5, 1e-3, 1.0, 0.0), CohortConfig(file=str(tmp_path / "none.npz"))) is None
    rng = np.random.default_rng(1)
    cohort = Cohort(rng.normal(size=(20, 128)), rng.normal(size=(20, 128)))
    cohort.save(tmp_path / "c.npz")
    cfg = CohortConfig(file=str(tmp_path / "c.npz"))
    good = FaceCalibration(0.7, 1e-3, 1.0, 0.0, score="cohort", cohort_k=5, cohort_sha256=cohort.sha256())
    assert _normalizer(good, cfg).k == 5
    stale = FaceCalibration(0.7, 1e-3, 1.0, 0.0, score="cohort", cohort_k=5, cohort_sha256="0" * 64)
    with pytest.raises(ConfigError, match="not the cohort the face calibration was fitted with"):
        _normalizer(stale, cfg)


def test_evaluation_leaves_the_pairs_own_persons_out_of_the_cohort():
    """At calibration the cohort is drawn from the same persons: their rows must not set the scale."""
    from pipelines.face import evaluation as ev

    rng = np.random.default_rng(2)
    rows = rng.normal(size=(6, 128))
    persons = np.asarray(["P1", "P1", "P2", "P3", "P4", "P5"])
    norm = CohortNormalizer(Cohort(rows, rows), k=2)
    a, b = rows[0] + 0.01, rows[2] + 0.01  # each face sits on its own person's cohort photo
    emb = ev.EmbeddedFaces({"x": a, "y": b}, {}, (), ())
    pairs = ev.PairSet("t", ("x",), ("y",), np.asarray([False]), ("P1",), ("P2",))
    raw, _, _, _ = emb.pair_scores_kept(pairs)
    kept_all, _, _, _ = emb.pair_scores_kept(pairs, norm)
    left_out, _, _, _ = emb.pair_scores_kept(pairs, norm, persons)
    d = np.linalg.norm(a - b)
    assert raw[0] == pytest.approx(d)
    assert kept_all[0] == pytest.approx(norm.score(d, a, b, False))
    mask = np.isin(persons, ["P1", "P2"])
    assert left_out[0] == pytest.approx(norm.score(d, a, b, False, mask))
    assert left_out[0] < kept_all[0]  # own photos at ~0 made both faces look crowded
