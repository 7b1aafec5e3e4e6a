"""DVC stage: calibrate the face-match threshold and probability on calibration identities only (ROC, EER, FAR target)."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from veid.config import load_section, to_mapping
from veid.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class FaceCalibrationConfig:
    """``params.yaml: face_calibration``.

    Attributes:
        faces_dir: the real face set (labelled by person), relative to the repository root.
        synth_dir: generated documents and selfies; generated with ``synth_n``/``synth_seed``
            when its ``manifest.jsonl`` is missing.
        synth_n: samples to generate when needed.
        synth_seed: generator seed.
        far_target: false-accept rate the threshold is chosen for (on calibration pairs).
        pair_kinds: which pairs calibrate, pooled: ``real`` (every pair of calibration persons'
            photos), ``portrait_flat`` and ``portrait_capture`` (document portrait, from the flat
            render or rectified from the captured photo, versus the selfie; generator split ``val``).
        out: calibration JSON the verifier reads (``face.calibration_file``).
        metrics: DVC metrics file.
        plot: ROC points (CSV) for ``dvc plots``.
        tracking_uri: MLflow store (``MLFLOW_TRACKING_URI`` overrides).
        experiment: MLflow experiment.
    """

    faces_dir: str = "../shared/data/faces"
    synth_dir: str = "data/work/face_synth"
    synth_n: int = 600
    synth_seed: int = 20261128
    far_target: float = 0.001
    pair_kinds: tuple[str, ...] = ("real", "portrait_flat", "portrait_capture")
    out: str = "models/face/face_calibration.json"
    metrics: str = "data/metrics/face.json"
    plot: str = "data/metrics/face_roc.csv"
    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "veid-face"
    splits: dict[str, str] = field(default_factory=lambda: {"calibration": "val", "evaluation": "test"})


def fit_logistic(distances: np.ndarray, same: np.ndarray, threshold: float) -> tuple[float, float]:
    """Fit ``P(same) = sigmoid(a * (threshold - d) + b)`` with balanced classes (equal priors)."""
    from sklearn.linear_model import LogisticRegression

    x = (threshold - distances).reshape(-1, 1)
    model = LogisticRegression(class_weight="balanced", C=100.0).fit(x, same.astype(int))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def calibrate(cfg: FaceCalibrationConfig, root: Path, progress: bool = True) -> dict[str, Any]:
    """Embed the calibration pairs, choose the threshold, fit the probability; returns every figure."""
    from pipelines.face import evaluation as ev
    from pipelines.face.models import FaceModels
    from pipelines.face.verify import FaceCalibration, FaceConfig, FaceVerifier
    from training.synth_manifest import read_manifest

    faces_dir = (root / cfg.faces_dir).resolve()
    synth_dir = root / cfg.synth_dir
    if not (synth_dir / "manifest.jsonl").is_file():
        from training.synth import generate

        generate(synth_dir, cfg.synth_n, cfg.synth_seed)
    samples = read_manifest(synth_dir / "manifest.jsonl")
    split = ev.identity_split(faces_dir)
    calib_persons = sorted(p for p, s in split.items() if s == ev.CALIBRATION)
    sets = []
    if "real" in cfg.pair_kinds:
        sets.append(ev.real_pairs(faces_dir, calib_persons))
    for kind in ("flat", "capture"):
        if f"portrait_{kind}" in cfg.pair_kinds:
            sets.append(ev.portrait_selfie_pairs(samples, {cfg.splits["calibration"]}, kind))
    # Only the stages are used here; the placeholder calibration is never consulted.
    placeholder = FaceCalibration(threshold=0.6, target_far=cfg.far_target, logistic_slope=1.0, logistic_offset=0.0)
    verifier = FaceVerifier(FaceConfig(), FaceModels.load(), placeholder)
    keys = {k for s in sets for k in s.a + s.b}
    embedded = ev.embed_keys(verifier, keys, ev.make_loader(faces_dir, samples), progress=progress)
    all_d, all_y, per_kind = [], [], {}
    for s in sets:
        d, y, dropped = ev.pair_distances(s, embedded.vectors)
        all_d.append(d)
        all_y.append(y)
        per_kind[s.kind] = {"summary": to_mapping(ev.summarize(d, y, cfg.far_target)), "dropped_pairs": dropped}
    d, y = np.concatenate(all_d), np.concatenate(all_y)
    pooled = ev.summarize(d, y, cfg.far_target)
    slope, offset = fit_logistic(d, y, pooled.threshold_at_far)
    thr, far, frr = ev.roc_curve(d, y)
    persons_used = sorted({ev.person_of(k.split(":", 1)[1]) for k in keys if k.startswith("real:")})
    synth_used = sorted({s.face_person for s in samples if s.split == cfg.splits["calibration"]})
    return {
        "calibration": {
            "threshold": pooled.threshold_at_far, "target_far": cfg.far_target, "logistic_slope": slope,
            "logistic_offset": offset, "eer": pooled.eer,
            "source": (f"{pooled.n_genuine} genuine + {pooled.n_impostor} impostor pairs of calibration identities "
                       f"({len(persons_used)} real persons, generator split '{cfg.splits['calibration']}' "
                       f"with {len(synth_used)} persons); kinds {list(cfg.pair_kinds)}"),
            "calibration_persons": persons_used,
        },
        "metrics": {"face": {"eer": pooled.eer, "frr_at_far_1e-3": pooled.frr_at_far,
                             "threshold": pooled.threshold_at_far}},
        "per_kind": per_kind,
        "pooled": to_mapping(pooled),
        "roc": (thr, far, frr),
        "failures_to_acquire": sum(1 for v in embedded.vectors.values() if v is None),
        "faces_embedded": len(embedded.vectors),
    }


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


def write_outputs(result: dict[str, Any], cfg: FaceCalibrationConfig, root: Path) -> None:
    """Calibration JSON, DVC metrics and the ROC CSV, each written atomically."""
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
                           "synth_seed": cfg.synth_seed, "synth_n": cfg.synth_n})
        m = result["metrics"]["face"]
        mlflow.log_metrics({"eer": m["eer"], "frr_at_far_1e-3": m["frr_at_far_1e-3"], "threshold": m["threshold"]})
        for kind, info in result["per_kind"].items():
            mlflow.log_metrics({f"{kind}.eer": info["summary"]["eer"], f"{kind}.frr_at_far": info["summary"]["frr_at_far"]})
        thr, far, frr = result["roc"]
        for i in range(0, len(thr), max(1, len(thr) // 200)):
            mlflow.log_metrics({"roc_far": float(far[i]), "roc_frr": float(frr[i])}, step=i)
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax[0].plot(thr, far, label="FAR")
        ax[0].plot(thr, frr, label="FRR")
        ax[0].axvline(m["threshold"], ls="--", c="k", label="threshold")
        ax[0].set_xlabel("embedding distance")
        ax[0].legend()
        ax[1].loglog(np.maximum(far, 1e-5), np.maximum(frr, 1e-3))
        ax[1].set_xlabel("FAR")
        ax[1].set_ylabel("FRR")
        ax[1].set_title("DET (calibration pairs)")
        mlflow.log_figure(fig, "face_roc.png")
        plt.close(fig)
        mlflow.log_dict(result["calibration"], "face_calibration.json")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: reads ``face_calibration`` from params; writes calibration, metrics, plot; logs to MLflow."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--no-mlflow", action="store_true", help="skip MLflow logging")
    args = parser.parse_args(argv)
    cfg = load_section(args.params, "face_calibration", FaceCalibrationConfig)
    root = Path.cwd()
    result = calibrate(cfg, root)
    write_outputs(result, cfg, root)
    if not args.no_mlflow:
        log_mlflow(result, cfg)
    print(json.dumps({"metrics": result["metrics"], "per_kind": result["per_kind"],
                      "failures_to_acquire": result["failures_to_acquire"],
                      "faces_embedded": result["faces_embedded"]}, indent=2))


if __name__ == "__main__":
    main()
