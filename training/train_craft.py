"""Train the CRAFT text detector on random crops of the prepared documents (photometric
augmentation): first on flat renders, then (``craft.finetune``) also on camera captures seen flat."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.boxes import MatchCounts, WordBoxConfig, decode_word_boxes, match_boxes
from models.craft import CraftConfig, CraftMaps, build_craft
from models.registry import write_record
from training.augment import GeometricConfig, PhotometricConfig, photometric, rescale_matrix, similarity_matrix, warp
from training.batches import seeded_batches
from training.finetune import FinetuneConfig
from training.mlflow_utils import DocTrainConfig, file_sha256, git_commit, log_figure, loss_curve_figure, mlflow_run, setup_tensorflow
from training.prepare import PreparedSplit, View, load_split
from training.targets import word_gap_mask
from veid.config import load_section, to_mapping
from veid.logs import get_logger, setup_logging
from veid.types import Quad

log = get_logger(__name__)


@dataclass(frozen=True)
class CraftTrainConfig:
    """``params.yaml: craft``: CRAFT architecture and training schedule.

    Attributes:
        model: network architecture.
        epochs: passes of ``steps_per_epoch`` batches.
        steps_per_epoch: batches per epoch (crops are drawn at random, so an "epoch" is a
            fixed amount of work, not a pass over the documents).
        batch_size: crops per batch.
        crop: side of the square training crop, image pixels (multiple of the model stride).
        scale_jitter: ``(low, high)`` random zoom of the crop around the prepared scale.
        learning_rate: Adam learning rate (cosine-decayed to 5 % over training).
        pos_weight: extra loss weight on pixels whose target exceeds 0.1 (text is sparse).
        gap_weight: extra loss weight on the pixels between adjacent words of a line
            (:func:`training.targets.word_gap_mask`): often one map pixel wide, they decide
            whether two words come out as one box.
        val_docs: validation documents scored (full canvas) at the end of each epoch.
        augment: photometric augmentation ranges.
        finetune: the second phase, on flat renders and capture views (``geometric`` turns
            and zooms each crop about its centre).
    """

    model: CraftConfig = CraftConfig()
    epochs: int = 12
    steps_per_epoch: int = 120
    batch_size: int = 8
    crop: int = 256
    scale_jitter: tuple[float, float] = (0.85, 1.15)
    learning_rate: float = 0.003
    pos_weight: float = 2.0
    gap_weight: float = 0.0
    val_docs: int = 16
    augment: PhotometricConfig = PhotometricConfig()
    finetune: FinetuneConfig = FinetuneConfig()


def sample_crop(split: PreparedSplit, i: int, crop: int, scale: float, rng: np.random.Generator,
                view: View = "image", gaps: np.ndarray | None = None):
    """A random ``crop``-px square from document ``i``'s ``view`` (zoomed by ``scale``) and its maps.

    Returns ``(image uint8 (crop, crop, 3), maps float32 (crop/2, crop/2, C))``: region and
    affinity, and with ``gaps`` (the document's word-gap mask on the map grid) a third
    channel, 1 on word gaps, for the loss's weights.
    """
    import cv2

    w, h = split.size(i)
    src = max(8, int(round(crop / scale)))
    src -= src % 2
    x0 = int(rng.integers(0, max(w - src, 0) + 1))
    y0 = int(rng.integers(0, max(h - src, 0) + 1))
    x0 -= x0 % 2
    y0 -= y0 % 2
    img = np.zeros((src, src, 3), np.uint8)
    part = split.view(view)[i, y0 : y0 + src, x0 : x0 + src]
    img[: part.shape[0], : part.shape[1]] = part
    full = split.maps[i] if gaps is None else np.dstack([split.maps[i], gaps.astype(np.uint8) * 255])
    maps = np.zeros((src // 2, src // 2, full.shape[-1]), np.uint8)
    mpart = full[y0 // 2 : (y0 + src) // 2, x0 // 2 : (x0 + src) // 2]
    maps[: mpart.shape[0], : mpart.shape[1]] = mpart
    if src != crop:
        img = cv2.resize(img, (crop, crop), interpolation=cv2.INTER_AREA if src > crop else cv2.INTER_LINEAR)
        maps = cv2.resize(maps, (crop // 2, crop // 2), interpolation=cv2.INTER_LINEAR).reshape(crop // 2, crop // 2, -1)
    return img, maps.astype(np.float32) / 255.0


def make_crop_dataset(split: PreparedSplit, cfg: CraftTrainConfig, seed: int, capture_share: float = 0.0,
                      geometric: GeometricConfig = GeometricConfig()):
    """A Keras ``PyDataset`` yielding augmented ``(images, maps)`` crop batches, seeded per batch.

    Each crop comes from the document's capture view with probability ``capture_share``
    (else its flat render) and is moved by a random similarity transform (``geometric``),
    image and maps alike. With neither, the stream is that of the first phase. With
    ``cfg.gap_weight`` the maps carry the word-gap mask as a third channel.
    """
    gap_cache: dict[int, np.ndarray] = {}

    def gaps(i: int) -> np.ndarray | None:
        if cfg.gap_weight <= 0:
            return None
        if i not in gap_cache:
            gap_cache[i] = word_gap_mask(split.word_quads(i), split.maps.shape[1:3], 0.5)
        return gap_cache[i]

    def batch(epoch: int, idx: int):
        rng = np.random.default_rng([seed, epoch, idx])
        xs, ys = [], []
        for _ in range(cfg.batch_size):
            i = int(rng.integers(len(split)))
            view: View = "capture" if capture_share > 0 and rng.random() < capture_share else "image"
            img, maps = sample_crop(split, i, cfg.crop, rng.uniform(*cfg.scale_jitter), rng, view, gaps(i))
            if geometric.prob > 0 and rng.random() < geometric.prob:
                mat = similarity_matrix(rng, geometric, (maps.shape[1], maps.shape[0]))
                maps, img = warp(maps, mat), warp(img, rescale_matrix(mat, 2.0))
            xs.append(photometric(img, rng, cfg.augment))
            ys.append(maps)
        return np.stack(xs).astype(np.float32), np.stack(ys)

    return seeded_batches(cfg.steps_per_epoch, batch, workers=1)


def weighted_mse(pos_weight: float, gap_weight: float = 0.0):
    """MSE over both maps, weighting pixels with target > 0.1 by ``1 + pos_weight``.

    With ``gap_weight``, ``y_true`` has a third channel (the word-gap mask) whose pixels
    weigh ``gap_weight`` more in both maps.
    """
    from keras import ops

    def loss(y_true, y_pred):
        target = y_true[..., :2]
        w = 1.0 + pos_weight * ops.cast(target > 0.1, "float32")
        if gap_weight:
            w = w + gap_weight * y_true[..., 2:3]
        return ops.mean(w * ops.square(target - y_pred))

    return loss


def predict_canvas(model, split: PreparedSplit, i: int, view: View = "image") -> CraftMaps:
    """CRAFT maps of document ``i``'s ``view`` on its canvas (scale 2: map px -> canvas px)."""
    out = np.asarray(model.predict_on_batch(split.view(view)[i : i + 1].astype(np.float32)))[0]
    w, h = split.size(i)
    out = out[: (h + 1) // 2, : (w + 1) // 2]
    return CraftMaps(out[..., 0].copy(), out[..., 1].copy(), scale=2.0, image_size=(w, h))


def validate(model, split: PreparedSplit, docs: Sequence[int], decode: WordBoxConfig, pos_weight: float,
             view: View = "image"):
    """One forward pass per document's ``view``: word-box matches (IoU 0.5) and the mean weighted MSE."""
    total, losses = MatchCounts(0, 0, 0), []
    for i in docs:
        out = np.asarray(model.predict_on_batch(split.view(view)[i : i + 1].astype(np.float32)))[0]
        target = split.maps[i].astype(np.float32) / 255.0
        weight = 1.0 + pos_weight * (target > 0.1)
        losses.append(float(np.mean(weight * (target - out) ** 2)))
        w, h = split.size(i)
        crop = out[: (h + 1) // 2, : (w + 1) // 2]
        maps = CraftMaps(crop[..., 0].copy(), crop[..., 1].copy(), scale=2.0, image_size=(w, h))
        truth = [Quad.from_array(q) for q in split.word_quads(i)]
        total = total + match_boxes(decode_word_boxes(maps, decode), truth, 0.5)
    return total, float(np.mean(losses)) if losses else float("nan")


def train_craft(prepared: Path, out: Path, cfg: CraftTrainConfig, common: DocTrainConfig, decode: WordBoxConfig,
                init: Path | None = None):
    """Train, log to MLflow and save the model (without optimizer state) to ``out``.

    Phase 1 trains on flat renders for ``cfg.epochs``; phase 2 (``cfg.finetune.epochs`` > 0)
    continues on flat renders and capture views, validated on both. With ``init``, phase 1 is
    skipped and phase 2 starts from those weights (a trained phase-1 network).
    Returns the Keras model and its per-epoch history (a dict of lists).
    """
    import keras
    import mlflow

    setup_tensorflow(common)
    train, val = load_split(prepared, "train"), load_split(prepared, "val")
    val_ids = list(range(min(cfg.val_docs, len(val))))
    ft = cfg.finetune
    history: dict[str, list[float]] = {"loss": [], "val_loss": [], "val_hmean": []}

    def fit(model, data, epochs: int, learning_rate: float, shown: tuple[View, ...], first_epoch: int, phase: str) -> None:
        """One phase: fresh Adam, validated on the ``shown`` views after each epoch; the weights
        with the best mean validation hmean over those views are kept (and saved as they come)."""
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, epochs * cfg.steps_per_epoch, alpha=0.05)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss=weighted_mse(cfg.pos_weight, cfg.gap_weight))
        best = {"hmean": -1.0, "weights": None}

        class EpochEnd(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                metrics = {"loss": float(logs["loss"])}
                for view in shown:
                    counts, val_loss = validate(self.model, val, val_ids, decode, cfg.pos_weight, view)
                    prefix = "val" if view == "image" else f"val_{view}"
                    metrics.update({f"{prefix}_loss": val_loss, f"{prefix}_hmean": 100 * counts.hmean,
                                    f"{prefix}_precision": 100 * counts.precision, f"{prefix}_recall": 100 * counts.recall})
                hmean = float(np.mean([metrics["val_hmean" if v == "image" else f"val_{v}_hmean"] for v in shown]))
                for k in history:
                    history[k].append(metrics[k])
                mlflow.log_metrics(metrics, step=first_epoch + epoch + 1)
                log.info("craft epoch %d: %s", first_epoch + epoch + 1, json.dumps({k: round(v, 4) for k, v in metrics.items()}))
                if hmean >= best["hmean"]:
                    best["hmean"], best["weights"] = hmean, self.model.get_weights()
                    save_plain(self.model, out)  # checkpoint: the best model so far is always on disk

        model.fit(data, epochs=epochs, verbose=2, callbacks=[EpochEnd()])
        if best["weights"] is not None:
            model.set_weights(best["weights"])
        mlflow.log_metric(f"best_val_hmean{phase}", best["hmean"])

    with mlflow_run(common, "train_craft", {"craft": to_mapping(cfg), "decode": to_mapping(decode)}) as run:
        mlflow.log_params({"train_docs": len(train), "val_docs": len(val_ids), "init": str(init or "")})
        done = 0
        # the starting weights, hashed before checkpoints could overwrite them (--init may equal --out)
        origin = {"finetuned_from": file_sha256(init)} if init is not None else {}
        if init is None:
            model = build_craft(cfg.model)
            fit(model, make_crop_dataset(train, cfg, common.seed), cfg.epochs, cfg.learning_rate, ("image",), 0, "")
            done = cfg.epochs
        else:
            model = keras.saving.load_model(init, compile=False)
        if ft.epochs > 0:
            data = make_crop_dataset(train, cfg, common.seed + 1, ft.capture_share, ft.geometric)
            fit(model, data, ft.epochs, ft.learning_rate, ("image", "capture"), done, "_finetune")
        save_plain(model, out)
        record = write_record(out, "craft", {"long_side": train.long_side, "config": to_mapping(cfg.model)},
                              git_commit=git_commit(), mlflow_run_id=run.info.run_id,
                              **origin)
        mlflow.log_artifact(str(out), artifact_path="model")
        mlflow.log_artifact(str(record), artifact_path="model")
        mlflow.set_tag("sha256", file_sha256(out))
        log_figure(loss_curve_figure({k: history[k] for k in ("loss", "val_loss")}, "CRAFT loss"), "plots/craft_loss.png")
        from training.docmodel_plots import craft_sample_figure

        for j in val_ids[:3]:
            maps = predict_canvas(model, val, j)
            fig = craft_sample_figure(np.asarray(val.images[j]), maps, decode_word_boxes(maps, decode))
            log_figure(fig, f"plots/craft_val_{j}.png")
        log.info("craft run %s saved %s", run.info.run_id, out)
    return model, history


def save_plain(model, out: Path) -> None:
    """Save architecture + weights only (no optimizer, no compiled loss), atomically."""
    import keras

    plain = keras.Model.from_config(model.get_config())
    plain.set_weights(model.get_weights())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.keras")
    plain.save(tmp)
    os.replace(tmp, out)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: reads ``craft``, ``doc_train`` and ``doc_eval.decode`` from params."""
    from training.evaluate_docmodels import DocEvalConfig

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--prepared", default="data/prepared")
    parser.add_argument("--out", default="models/weights/craft.keras")
    parser.add_argument("--init", default=None,
                        help="skip the first (flat) phase and fine-tune these weights (craft.finetune)")
    args = parser.parse_args(argv)
    setup_logging()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cfg = load_section(args.params, "craft", CraftTrainConfig)
    common = load_section(args.params, "doc_train", DocTrainConfig)
    decode = load_section(args.params, "doc_eval", DocEvalConfig).decode
    if args.init and cfg.finetune.epochs <= 0:
        parser.error("--init needs craft.finetune.epochs > 0 (it skips the first phase)")
    train_craft(Path(args.prepared), Path(args.out), cfg, common, decode, Path(args.init) if args.init else None)


if __name__ == "__main__":
    main()
