"""Quorum: two-thirds agreement, tolerance, weighted median, dissenters, and input checks."""

from __future__ import annotations

from fractions import Fraction

import pytest

from attest.quorum import Vote, aggregate
from veid.errors import InputError

POWER = {"a": 10, "b": 10, "c": 10}


def _votes(**scores: int) -> list[Vote]:
    return [Vote(v, s, f"att-{v}") for v, s in scores.items()]


def test_identical_scores_accepted_with_one_dissenter() -> None:
    out = aggregate(_votes(a=80, b=80, c=55), POWER)
    assert out.accepted and out.score == 80
    assert (out.agreeing_power, out.total_power, out.dissenters) == (20, 30, ("c",))
    assert "dissent" in out.reason


def test_exactly_two_thirds_is_enough_and_less_is_not() -> None:
    assert aggregate(_votes(a=80, b=80), POWER).accepted  # c did not vote: 20/30 = 2/3
    out = aggregate(_votes(a=80, b=81, c=82), POWER)  # tolerance 0: no two agree
    assert not out.accepted and out.score is None and out.agreeing_power == 10
    assert not aggregate(_votes(a=80, b=80), {"a": 10, "b": 10, "c": 11}).accepted  # 20/31 < 2/3


def test_tolerance_window_and_weighted_median() -> None:
    out = aggregate(_votes(a=80, b=81, c=82), POWER, tolerance=2)
    assert out.accepted and out.score == 81 and out.dissenters == ()
    out = aggregate(_votes(a=80, b=81, c=90), {"a": 30, "b": 10, "c": 5}, tolerance=1)
    assert out.accepted and out.score == 80 and out.dissenters == ("c",)  # a's power dominates the median
    out = aggregate(_votes(a=70, b=72, c=74), POWER, tolerance=2)  # windows [70,72] and [72,74] tie: lower wins
    assert out.accepted and out.dissenters == ("c",) and out.score == 70


def test_custom_threshold() -> None:
    assert not aggregate(_votes(a=80, b=80, c=10), POWER, threshold=Fraction(3, 4)).accepted
    assert aggregate(_votes(a=80, b=70), POWER, threshold=Fraction(1, 3)).accepted


def test_no_votes_and_input_errors() -> None:
    assert not aggregate([], POWER).accepted
    with pytest.raises(InputError, match="twice"):
        aggregate(_votes(a=80) + _votes(a=81), POWER)
    with pytest.raises(InputError, match="not in the validator set"):
        aggregate(_votes(z=80), POWER)
    with pytest.raises(InputError):
        aggregate(_votes(a=101), POWER)
    with pytest.raises(InputError):
        aggregate(_votes(a=80), POWER, threshold=Fraction(0))
    with pytest.raises(InputError):
        aggregate(_votes(a=80), POWER, tolerance=-1)
