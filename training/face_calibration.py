"""DVC stage: calibrate the face-match threshold and probability on calibration identities only (ROC, EER, FAR target)."""

from __future__ import annotations

import argparse
import enum
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from veid.config import load_section, to_mapping
from veid.errors import InputError
from veid.logs import get_logger

log = get_logger(__name__)


class ThresholdRule(str, enum.Enum):
    """How the decision threshold is read off the calibration pairs.

    ``pairs``: the largest distance whose false-accept rate over all impostor pairs stays at the
    target. ``identity_bootstrap``: resample the calibration persons with replacement, weight every
    impostor person pair equally, take the threshold at the target in each resample, and keep a low
    quantile of those thresholds, so that the target holds for most draws of new identities (a few
    look-alike persons decide the FAR at 0.1%; the pair-level rule ignores that spread).
    """

    PAIRS = "pairs"
    IDENTITY_BOOTSTRAP = "identity_bootstrap"


@dataclass(frozen=True)
class FaceCalibrationConfig:
    """``params.yaml: face_calibration``.

    Attributes:
        faces_dir: the real face set (labelled by person), relative to the repository root; used
            only for the ``real`` pair kind and to tell calibration from held-out persons.
        synth_dir: generated documents and selfies of calibration persons; generated with
            ``synth_n``/``synth_seed``/``synth_split_weights`` when its ``manifest.jsonl`` is missing.
        synth_n: samples to generate when needed.
        synth_seed: generator seed.
        synth_split_weights: generator ``(train, val, test)`` weights; ``test`` must be 0 (held-out
            persons are never generated into the calibration set).
        far_target: false-accept rate the threshold is chosen for (on calibration pairs).
        pair_kinds: which pairs calibrate, pooled: ``portrait_flat`` and ``portrait_capture``
            (document portrait, from the flat render or rectified from the captured photo, versus
            every selfie of split ``splits.calibration``), and optionally ``real`` (every pair of
            calibration persons' real photos; off by default: the real photos are for evaluation).
        impostor_portrait_splits: generator splits whose portraits join as impostors only
            (``train`` persons have a single photo, hence no genuine selfie).
        threshold_rule: see :class:`ThresholdRule`.
        bootstrap_rounds, bootstrap_quantile, bootstrap_seed: the identity bootstrap.
        cv_rounds, cv_seed: the person-split cross-check (:func:`person_split_rates`); 0 rounds skips it.
        out: calibration JSON the verifier reads (``face.calibration_file``).
        metrics: DVC metrics file.
        plot: ROC points (CSV) for ``dvc plots``.
        tracking_uri: MLflow store (``MLFLOW_TRACKING_URI`` overrides).
        experiment: MLflow experiment.
    """

    faces_dir: str = "../shared/data/faces"
    synth_dir: str = "data/work/face_calib"
    synth_n: int = 500
    synth_seed: int = 20261203
    synth_split_weights: tuple[float, float, float] = (0.3, 0.7, 0.0)
    far_target: float = 0.001
    pair_kinds: tuple[str, ...] = ("portrait_flat", "portrait_capture")
    impostor_portrait_splits: tuple[str, ...] = ("train",)
    threshold_rule: ThresholdRule = ThresholdRule.IDENTITY_BOOTSTRAP
    bootstrap_rounds: int = 200
    bootstrap_quantile: float = 0.1
    bootstrap_seed: int = 0
    cv_rounds: int = 40
    cv_seed: int = 0
    out: str = "models/face/face_calibration.json"
    metrics: str = "data/metrics/face.json"
    plot: str = "data/metrics/face_roc.csv"
    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "veid-face"
    splits: dict[str, str] = field(default_factory=lambda: {"calibration": "val", "evaluation": "test"})

    def __post_init__(self) -> None:
        if len(self.synth_split_weights) != 3 or self.synth_split_weights[2] != 0:
            raise ValueError("synth_split_weights must be (train, val, 0): no held-out (test) persons in calibration")
        if self.splits["evaluation"] in self.impostor_portrait_splits or self.splits["evaluation"] == self.splits["calibration"]:
            raise ValueError("the evaluation split must not calibrate")
        if not 0.0 < self.bootstrap_quantile < 1.0 or self.bootstrap_rounds < 1:
            raise ValueError("bootstrap_quantile must lie in (0, 1) and bootstrap_rounds be positive")
        if self.cv_rounds < 0:
            raise ValueError("cv_rounds must be 0 (no cross-check) or positive")


def fit_logistic(distances: np.ndarray, same: np.ndarray, threshold: float) -> tuple[float, float]:
    """Fit ``P(same) = sigmoid(a * (threshold - d) + b)`` with balanced classes (equal priors)."""
    from sklearn.linear_model import LogisticRegression

    x = (threshold - distances).reshape(-1, 1)
    model = LogisticRegression(class_weight="balanced", C=100.0).fit(x, same.astype(int))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def weighted_threshold_at_far(impostor_d: np.ndarray, weights: np.ndarray, far_target: float) -> float:
    """Largest threshold whose weighted false-accept rate is at most ``far_target``.

    The impostor distances are sorted; the ``k`` smallest whose cumulative weight share stays at or
    below the target may be accepted, and the threshold sits halfway between the ``k``-th and the
    next. With equal weights this is :func:`pipelines.face.evaluation.threshold_at_far`.
    """
    if impostor_d.size == 0 or weights.sum() <= 0:
        raise InputError("no impostor pairs: cannot set a threshold at a false-accept rate")
    order = np.argsort(impostor_d, kind="stable")
    return _threshold_sorted(impostor_d[order], weights[order], far_target)


def _threshold_sorted(d: np.ndarray, weights: np.ndarray, far_target: float) -> float:
    """:func:`weighted_threshold_at_far` on distances already sorted ascending (weights in the same order)."""
    w = weights / weights.sum()
    k = int(np.searchsorted(np.cumsum(w), far_target + 1e-12, side="right"))
    upper = d[k] if k < d.size else d[-1] + 1.0
    lower = d[k - 1] if k > 0 else max(0.0, upper - 0.02)
    return float((lower + upper) / 2.0)


def identity_bootstrap_threshold(distances: np.ndarray, same: np.ndarray, person_a: np.ndarray, person_b: np.ndarray,
                                 far_target: float, rounds: int, quantile: float, seed: int) -> tuple[float, np.ndarray]:
    """Threshold at ``far_target`` that holds in a ``1 - quantile`` share of identity resamples.

    Each round draws the persons with replacement; an impostor pair counts with the product of its
    two persons' draw counts divided by the number of pairs of that person pair (so each person pair
    weighs the same whatever its number of photos or samples).

    Returns:
        The ``quantile`` of the per-round thresholds, and all of them.
    """
    imp = ~same.astype(bool)
    order = np.argsort(distances[imp], kind="stable")  # sorted once; each round only reweights
    d, pa, pb = distances[imp][order], np.asarray(person_a)[imp][order], np.asarray(person_b)[imp][order]
    persons, codes = np.unique(np.concatenate([pa, pb]), return_inverse=True)
    ca, cb = codes[:pa.size], codes[pa.size:]
    _, inv, cnt = np.unique(ca * persons.size + cb, return_inverse=True, return_counts=True)
    base = 1.0 / cnt[inv]
    rng = np.random.default_rng(seed)
    thresholds = []
    for _ in range(rounds):
        draws = np.bincount(rng.integers(persons.size, size=persons.size), minlength=persons.size)
        w = base * draws[ca] * draws[cb]
        if w.sum() > 0:
            thresholds.append(_threshold_sorted(d, w, far_target))
    out = np.asarray(thresholds)
    return float(np.quantile(out, quantile)), out


def person_split_rates(distances: np.ndarray, same: np.ndarray, person_a: np.ndarray, person_b: np.ndarray,
                       choose: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], float],
                       rounds: int, seed: int) -> np.ndarray:
    """How a threshold rule does on persons it never saw, estimated from the calibration persons alone.

    Each round splits the persons at random into halves (persons with a genuine pair and the others
    are halved separately), sets the threshold with ``choose(d, same, person_a, person_b)`` on the
    pairs inside one half and measures FAR and FRR on the pairs inside the other. The spread of the
    FARs is what a new set of identities of that size may see; a fit half is half the calibration
    set, so the estimate leans to the pessimistic side.

    Returns:
        ``(rounds, 2)``: FAR and FRR on the unseen half per round (NaN where a half has no pair of a kind).
    """
    same = same.astype(bool)
    pa, pb = np.asarray(person_a), np.asarray(person_b)
    persons = np.unique(np.concatenate([pa, pb]))
    genuine = np.unique(pa[same])
    others = np.setdiff1d(persons, genuine)
    rng = np.random.default_rng(seed)
    out = np.full((rounds, 2), np.nan)
    for r in range(rounds):
        fit = np.concatenate([rng.permutation(genuine)[:genuine.size // 2], rng.permutation(others)[:others.size // 2]])
        in_a, in_b = np.isin(pa, fit), np.isin(pb, fit)
        f, e = in_a & in_b, ~in_a & ~in_b
        if not (same[f].any() and (~same[f]).any()):
            continue
        t = choose(distances[f], same[f], pa[f], pb[f])
        de, ye = distances[e], same[e]
        if (~ye).any():
            out[r, 0] = float((de[~ye] <= t).mean())
        if ye.any():
            out[r, 1] = float((de[ye] > t).mean())
    return out


def calibrate(cfg: FaceCalibrationConfig, face_cfg: Any, root: Path, progress: bool = True) -> dict[str, Any]:
    """Embed the calibration pairs, choose the threshold, fit the probability; returns every figure.

    Args:
        face_cfg: the ``face`` section (:class:`pipelines.face.verify.FaceConfig`): the same stages
            as the verifier that will use the threshold.
    """
    from pipelines.face import evaluation as ev
    from pipelines.face.cohort import CohortNormalizer
    from pipelines.face.models import FaceModels
    from pipelines.face.verify import FaceCalibration, FaceVerifier
    from training.synth import SynthConfig
    from training.synth_manifest import read_manifest

    faces_dir = (root / cfg.faces_dir).resolve()
    synth_dir = root / cfg.synth_dir
    if not (synth_dir / "manifest.jsonl").is_file():
        from training.synth import generate

        generate(synth_dir, cfg.synth_n, cfg.synth_seed, SynthConfig(split_weights=cfg.synth_split_weights),
                 force=True, progress=progress)
    samples = read_manifest(synth_dir / "manifest.jsonl")
    held_out = {p for p, s in ev.identity_split(faces_dir).items() if s == ev.EVALUATION}
    leaked = sorted({s.face_person for s in samples} & held_out)
    if leaked:
        raise InputError(f"{synth_dir}: calibration set shows {len(leaked)} held-out persons; regenerate it")
    sets = []
    calib_persons = sorted(p for p, s in ev.identity_split(faces_dir).items() if s == ev.CALIBRATION)
    if "real" in cfg.pair_kinds:
        sets.append(ev.real_pairs(faces_dir, calib_persons))
    for kind in ("flat", "capture"):
        if f"portrait_{kind}" in cfg.pair_kinds:
            sets.append(ev.portrait_selfie_pairs(samples, {cfg.splits["calibration"]}, kind,
                                                 set(cfg.impostor_portrait_splits)))
    # Only the stages are used here; the placeholder calibration is never consulted.
    placeholder = FaceCalibration(threshold=0.6, target_far=cfg.far_target, logistic_slope=1.0, logistic_offset=0.0)
    verifier = FaceVerifier(face_cfg, FaceModels.load(), placeholder)
    cohort, cohort_persons = build_cohort(verifier, faces_dir, calib_persons, progress)
    normalizer = CohortNormalizer(cohort, face_cfg.cohort.k) if face_cfg.cohort.enabled else None
    keys = {k for s in sets for k in s.a + s.b}
    embedded = ev.embed_keys(verifier, keys, ev.make_loader(faces_dir, samples), progress=progress, pairs=sets)
    all_d, all_y, all_pa, all_pb, per_kind = [], [], [], [], {}
    for s in sets:
        # the cohort is the calibration persons' photos: a pair's own persons are left out of it
        d, y, kept, dropped = embedded.pair_scores_kept(s, normalizer, cohort_persons)
        all_d.append(d)
        all_y.append(y)
        all_pa.append(np.asarray(s.person_a)[kept])
        all_pb.append(np.asarray(s.person_b)[kept])
        per_kind[s.kind] = {"summary": to_mapping(ev.summarize(d, y, cfg.far_target)), "dropped_pairs": dropped}
    d, y = np.concatenate(all_d), np.concatenate(all_y)
    pa, pb = np.concatenate(all_pa), np.concatenate(all_pb)
    pooled = ev.summarize(d, y, cfg.far_target)
    boot_thr, boots = identity_bootstrap_threshold(d, y, pa, pb, cfg.far_target, cfg.bootstrap_rounds,
                                                   cfg.bootstrap_quantile, cfg.bootstrap_seed)
    threshold = boot_thr if cfg.threshold_rule is ThresholdRule.IDENTITY_BOOTSTRAP else pooled.threshold_at_far

    def choose(d_: np.ndarray, y_: np.ndarray, pa_: np.ndarray, pb_: np.ndarray) -> float:
        if cfg.threshold_rule is ThresholdRule.IDENTITY_BOOTSTRAP:
            return identity_bootstrap_threshold(d_, y_, pa_, pb_, cfg.far_target, cfg.bootstrap_rounds,
                                                cfg.bootstrap_quantile, cfg.bootstrap_seed)[0]
        return ev.threshold_at_far(d_, y_, cfg.far_target)

    cross = person_split_rates(d, y, pa, pb, choose, cfg.cv_rounds, cfg.cv_seed) if cfg.cv_rounds else None
    at = ev.rates_at(d, y, threshold)
    slope, offset = fit_logistic(d, y, threshold)
    thr, far, frr = ev.roc_curve(d, y)
    persons = sorted(set(pa) | set(pb))
    genuine_persons = sorted(set(pa[y]))
    return {
        "calibration": {
            "threshold": threshold, "target_far": cfg.far_target, "logistic_slope": slope,
            "logistic_offset": offset, "eer": pooled.eer, "threshold_rule": cfg.threshold_rule.value,
            "score": "cohort" if normalizer is not None else "distance",
            "cohort_k": face_cfg.cohort.k if normalizer is not None else 0,
            "cohort_sha256": cohort.sha256() if normalizer is not None else "",
            "cohort_faces": len(cohort),
            "source": (f"{pooled.n_genuine} genuine + {pooled.n_impostor} impostor pairs of calibration identities "
                       f"({len(persons)} persons, {len(genuine_persons)} with two photos; generator splits "
                       f"'{cfg.splits['calibration']}' + impostor portraits of {list(cfg.impostor_portrait_splits)}); "
                       f"kinds {list(cfg.pair_kinds)}; threshold rule {cfg.threshold_rule.value} (pair-level "
                       f"{pooled.threshold_at_far:.4f}; bootstrap q{cfg.bootstrap_quantile:g} {boot_thr:.4f}, median "
                       f"{float(np.median(boots)):.4f})"),
            "calibration_persons": persons,
        },
        "metrics": {"face": {"eer": pooled.eer, "frr_at_far_1e-3": pooled.frr_at_far,
                             "threshold": threshold, "frr_at_threshold": at.frr, "far_at_threshold": at.far,
                             "threshold_pairs": pooled.threshold_at_far, **_cross_metrics(cross, cfg.far_target)}},
        "per_kind": per_kind,
        "pooled": to_mapping(pooled),
        "bootstrap": {"quantile": cfg.bootstrap_quantile, "rounds": int(boots.size),
                      "p10": float(np.quantile(boots, 0.1)), "median": float(np.median(boots)),
                      "p90": float(np.quantile(boots, 0.9))},
        "roc": (thr, far, frr),
        "cross_check": cross,
        "cohort": cohort,
        "failures_to_acquire": sum(1 for v in embedded.vectors.values() if v is None),
        "faces_embedded": len(embedded.vectors),
    }


def _finite(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


def _cross_metrics(cross: np.ndarray | None, far_target: float) -> dict[str, float]:
    """DVC metric keys of the person-split cross-check (none when it was skipped)."""
    far = _finite(cross[:, 0]) if cross is not None else np.zeros(0)
    if not far.size:
        return {}
    frr = _finite(cross[:, 1])
    return {"cv_far_unseen_mean": float(far.mean()), "cv_far_unseen_p90": float(np.quantile(far, 0.9)),
            "cv_far_unseen_share_at_target": float((far <= far_target).mean()),
            "cv_frr_unseen_mean": float(frr.mean()) if frr.size else float("nan")}


def thin_roc(thr: np.ndarray, far: np.ndarray, frr: np.ndarray, points: int = 400) -> tuple[np.ndarray, ...]:
    """At most about ``points`` ROC points: every point where FRR changes, plus evenly spaced others."""
    keep = set(np.flatnonzero(np.diff(frr, prepend=-1.0) != 0).tolist())
    keep |= set(np.linspace(0, len(thr) - 1, points).astype(int).tolist())
    idx = np.asarray(sorted(keep))
    return thr[idx], far[idx], frr[idx]


def _write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def build_cohort(verifier: Any, faces_dir: Path, persons: Sequence[str], progress: bool = True) -> tuple[Any, np.ndarray]:
    """The score-normalisation cohort: every real photo of ``persons`` in which a face is found,
    embedded as the verifier embeds it (colour, and grey), with the person of each row.

    Raises:
        InputError: no face found in any of the photos.
    """
    from tqdm import tqdm

    from pipelines.face.cohort import Cohort
    from pipelines.face.evaluation import photos_of
    from pipelines.face.image_io import load_rgb

    rows = photos_of(faces_dir, persons)
    colour, grey, who = [], [], []
    for name, person in tqdm(rows, desc="embed cohort", unit="face", disable=not progress):
        rgb = load_rgb(faces_dir / name)
        faces = verifier.detect(rgb)
        if not faces:
            log.warning("cohort photo without a face left out: %s", name)
            continue
        aligned = verifier.align(rgb, faces[0])
        colour.append(verifier.embed(aligned).vector)
        grey.append(verifier.embed.embed_grey(aligned).vector)
        who.append(person)
    if not who:
        raise InputError(f"{faces_dir}: no face found in the cohort photos")
    return Cohort(np.asarray(colour), np.asarray(grey)), np.asarray(who)


def write_outputs(result: dict[str, Any], cfg: FaceCalibrationConfig, root: Path, cohort_file: str | None = None) -> None:
    """Calibration JSON, DVC metrics, the ROC CSV and (given ``cohort_file``) the cohort, each written atomically."""
    if cohort_file is not None:
        result["cohort"].save(root / cohort_file)
    _write_json_atomic(root / cfg.out, result["calibration"])
    _write_json_atomic(root / cfg.metrics, result["metrics"])
    thr, far, frr = thin_roc(*result["roc"])
    plot = root / cfg.plot
    plot.parent.mkdir(parents=True, exist_ok=True)
    tmp = plot.with_name(plot.name + ".tmp")
    tmp.write_text("threshold,far,frr\n" + "".join(f"{t:.6f},{a:.6f},{r:.6f}\n" for t, a, r in zip(thr, far, frr)))
    os.replace(tmp, plot)


def log_mlflow(result: dict[str, Any], cfg: FaceCalibrationConfig) -> None:
    """Log parameters, metrics, the ROC/DET curve figure and the calibration file to MLflow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or cfg.tracking_uri)
    mlflow.set_experiment(cfg.experiment)
    with mlflow.start_run(run_name="face_calibration"):
        mlflow.log_params({"far_target": cfg.far_target, "pair_kinds": ",".join(cfg.pair_kinds),
                           "score": result["calibration"]["score"], "cohort_k": result["calibration"]["cohort_k"],
                           "synth_seed": cfg.synth_seed, "synth_n": cfg.synth_n,
                           "threshold_rule": cfg.threshold_rule.value, "bootstrap_quantile": cfg.bootstrap_quantile})
        m = result["metrics"]["face"]
        mlflow.log_metrics({k: float(v) for k, v in m.items()})
        for kind, info in result["per_kind"].items():
            mlflow.log_metrics({f"{kind}.eer": info["summary"]["eer"], f"{kind}.frr_at_far": info["summary"]["frr_at_far"]})
        thr, far, frr = result["roc"]
        for i in range(0, len(thr), max(1, len(thr) // 200)):
            mlflow.log_metrics({"roc_far": float(far[i]), "roc_frr": float(frr[i])}, step=i)
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax[0].plot(thr, far, label="FAR")
        ax[0].plot(thr, frr, label="FRR")
        ax[0].axvline(m["threshold"], ls="--", c="k", label="threshold")
        ax[0].set_xlabel("cohort-normalised distance" if result["calibration"]["score"] == "cohort" else "embedding distance")
        ax[0].legend()
        ax[1].loglog(np.maximum(far, 1e-5), np.maximum(frr, 1e-3))
        ax[1].set_xlabel("FAR")
        ax[1].set_ylabel("FRR")
        ax[1].set_title("DET (calibration pairs)")
        mlflow.log_figure(fig, "face_roc.png")
        plt.close(fig)
        cross = result.get("cross_check")
        unseen_far = _finite(cross[:, 0]) if cross is not None else np.zeros(0)
        if unseen_far.size:
            fig, ax = plt.subplots(figsize=(5, 3.5))
            ax.hist(100 * unseen_far, bins=20)
            ax.axvline(100 * cfg.far_target, ls="--", c="k", label="target")
            ax.set_xlabel("FAR on the unseen half of the calibration persons (%)")
            ax.set_ylabel("splits")
            ax.legend()
            mlflow.log_figure(fig, "face_far_person_split.png")
            plt.close(fig)
        mlflow.log_dict(result["calibration"], "face_calibration.json")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: reads ``face_calibration`` from params; writes calibration, metrics, plot; logs to MLflow."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--no-mlflow", action="store_true", help="skip MLflow logging")
    args = parser.parse_args(argv)
    from pipelines.face.verify import FaceConfig

    cfg = load_section(args.params, "face_calibration", FaceCalibrationConfig)
    face_cfg = load_section(args.params, "face", FaceConfig)
    root = Path.cwd()
    result = calibrate(cfg, face_cfg, root)
    write_outputs(result, cfg, root, face_cfg.cohort.file)
    if not args.no_mlflow:
        log_mlflow(result, cfg)
    print(json.dumps({"metrics": result["metrics"], "per_kind": result["per_kind"], "bootstrap": result["bootstrap"],
                      "failures_to_acquire": result["failures_to_acquire"],
                      "faces_embedded": result["faces_embedded"]}, indent=2))


if __name__ == "__main__":
    main()
