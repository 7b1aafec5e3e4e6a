"""Quorum over validators' scores: accept when enough voting power agrees within a tolerance.

Rule: among the votes, find the score window ``[lo, lo + tolerance]`` holding the most
voting power (ties: the lower window). The result is accepted when that power is at least
``threshold`` of the *total* voting power of the validator set (non-voters count against
acceptance). The accepted score is the power-weighted lower median of the agreeing votes;
every voter outside the window is a dissenter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from veid.errors import InputError


@dataclass(frozen=True)
class Vote:
    """One validator's score for a subject, and the id of the attestation that carries it."""

    validator: str
    score: int
    attestation_id: str


@dataclass(frozen=True)
class QuorumOutcome:
    """Result of :func:`aggregate`.

    Attributes:
        accepted: whether the agreeing power reached the threshold.
        score: the agreed score (weighted median), or ``None`` when not accepted.
        agreeing_power: voting power inside the best agreement window.
        total_power: voting power of the whole validator set.
        dissenters: voters outside the window, sorted.
        reason: one line explaining the outcome.
    """

    accepted: bool
    score: int | None
    agreeing_power: int
    total_power: int
    dissenters: tuple[str, ...]
    reason: str


def aggregate(
    votes: Iterable[Vote],
    voting_power: Mapping[str, int],
    tolerance: int = 0,
    threshold: Fraction = Fraction(2, 3),
) -> QuorumOutcome:
    """Decide whether the validators agree on a score.

    Args:
        votes: at most one vote per validator; scores are integers 0..100.
        voting_power: power of every validator in the set (voters and non-voters).
        tolerance: largest score difference, in points, between agreeing votes (0: identical).
        threshold: share of total power that must agree (at least), in (0, 1].

    Raises:
        InputError: a duplicate voter, a voter outside the set, a score outside 0..100,
            negative power, a negative tolerance or a threshold outside (0, 1].
    """
    votes = list(votes)
    if tolerance < 0 or not 0 < threshold <= 1:
        raise InputError(f"need tolerance >= 0 and threshold in (0, 1], got {tolerance} and {threshold}")
    if any(p < 0 for p in voting_power.values()):
        raise InputError("voting power cannot be negative")
    seen: set[str] = set()
    for v in votes:
        if v.validator in seen:
            raise InputError(f"validator {v.validator} voted twice")
        if v.validator not in voting_power:
            raise InputError(f"validator {v.validator} is not in the validator set")
        if isinstance(v.score, bool) or not isinstance(v.score, int) or not 0 <= v.score <= 100:
            raise InputError(f"score of {v.validator} must be an integer 0..100, got {v.score!r}")
        seen.add(v.validator)
    total = sum(voting_power.values())
    if total == 0 or not votes:
        return QuorumOutcome(False, None, 0, total, (), "no votes" if not votes else "validator set has no power")

    best_lo, best_power = 0, -1
    for lo in sorted({v.score for v in votes}):
        power = sum(voting_power[v.validator] for v in votes if lo <= v.score <= lo + tolerance)
        if power > best_power:
            best_lo, best_power = lo, power
    agreeing = sorted((v for v in votes if best_lo <= v.score <= best_lo + tolerance), key=lambda v: v.score)
    dissenters = tuple(sorted(v.validator for v in votes if not best_lo <= v.score <= best_lo + tolerance))
    share = Fraction(best_power, total)
    if share < threshold:
        return QuorumOutcome(
            False, None, best_power, total, dissenters,
            f"largest agreeing group holds {best_power}/{total} of the power, below {threshold}",
        )  # fmt: skip
    score = _weighted_lower_median([(v.score, voting_power[v.validator]) for v in agreeing])
    return QuorumOutcome(
        True, score, best_power, total, dissenters,
        f"{len(agreeing)} validators with {best_power}/{total} of the power agree on {score}"
        + (f"; {len(dissenters)} dissent" if dissenters else ""),
    )  # fmt: skip


def _weighted_lower_median(scored: list[tuple[int, int]]) -> int:
    """Smallest score at which the cumulative power reaches half of the total (input sorted by score)."""
    total = sum(p for _, p in scored)
    if total == 0:  # all agreeing voters have zero power: plain lower median
        return scored[(len(scored) - 1) // 2][0]
    cumulative = 0
    for score, power in scored:
        cumulative += power
        if 2 * cumulative >= total:
            return score
    return scored[-1][0]
