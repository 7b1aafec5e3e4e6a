"""Scoring latency per user (goal < 5 ms): parse, features, ensemble, full score with reasons; peers in the same run.

Run: ``.venv/bin/python -m bench.bench_scorer [N_USERS]``. Peers: the reference design's
fixed-weight average (no model) and scikit-learn's own ``HistGradientBoostingClassifier.predict_proba``
on one row (fitted here on the same features), against our NumPy tree export.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np


def _timed(fn, items) -> list[float]:
    out = []
    for it in items:
        t = time.perf_counter()
        fn(it)
        out.append((time.perf_counter() - t) * 1e3)
    return out


def _timed_limited(fn, items) -> list[float]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # OpenMP spin-waits dominate otherwise on a busy 2-core host
        return _timed(fn, items)


def main(n: int = 500) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from threadpoolctl import threadpool_limits

    from pipelines.scoring.evidence import parse_evidence
    from pipelines.scoring.features import DIRECTIONS, baseline_score, build_features
    from pipelines.scoring.scorer import IdentityScorer, ScoringConfig
    from training.synth_scopes import scope_histories

    recs = scope_histories([f"bench-{i:05d}" for i in range(n)], ["test"] * n, seed=11)
    scorer = IdentityScorer.from_config(ScoringConfig())
    evs = [parse_evidence(r) for r in recs]
    xs = [build_features(e).to_array()[None, :] for e in evs]
    for e in evs[:20]:  # warm-up
        scorer(e)

    from sklearn.ensemble import HistGradientBoostingClassifier

    train = scope_histories([f"bench-fit-{i:05d}" for i in range(3000)], ["train"] * 3000, seed=12)
    xt = np.stack([build_features(parse_evidence(r)).to_array() for r in train])
    with threadpool_limits(limits=1):
        hgb = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, max_leaf_nodes=15,
                                             monotonic_cst=[int(d) for d in DIRECTIONS], random_state=0)
        hgb.fit(xt, np.asarray([r["label"] for r in train]))

    rows = [
        ("parse JSON -> Evidence", _timed(parse_evidence, recs)),
        ("features", _timed(build_features, evs)),
        ("ensemble probability (1 row)", _timed(scorer.model.predict_proba, xs)),
        ("trees only, our NumPy export", _timed(scorer.model.trees.raw, xs)),
        ("peer: sklearn HGB predict_proba, 1 thr", _timed_limited(hgb.predict_proba, xs)),
        ("score + tier + reasons", _timed(scorer, evs)),
        ("parse + score + reasons (per user)", _timed(lambda r: scorer(parse_evidence(r)), recs)),
        ("peer: reference fixed weights", _timed(baseline_score, evs)),
    ]
    total = statistics.median(rows[6][1])
    print(f"scorer latency, {n} synthetic users, one at a time (ms); model {scorer.model.version.sha256[:12]}")
    print(f"{'step':<38}{'median':>9}{'p95':>9}{'x full':>9}")
    for name, ts in rows:
        med = statistics.median(ts)
        p95 = float(np.percentile(ts, 95))
        print(f"{name:<38}{med:>9.3f}{p95:>9.3f}{med / total:>9.2f}")
    ours = statistics.median(rows[3][1])
    peer = statistics.median(rows[4][1])
    print(f"trees: our export {ours:.3f} ms vs sklearn {peer:.3f} ms per row (ratio {peer / ours:.1f}x)")
    scored = statistics.median(rows[5][1])
    for what, ms in (("Evidence -> score + reasons", scored), ("JSON -> score + reasons", total)):
        print(f"goal < 5 ms per user, {what}: median {ms:.2f} ms: {'met' if ms < 5 else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
