"""Train the field UNET on CRAFT's maps of the prepared documents (whole documents, half resolution):
first on flat renders, then (``unet.finetune``) also on camera captures seen flat."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from models.registry import write_record
from models.unet import N_CLASSES, UnetConfig, build_unet, fold_label_classes
from training.augment import PhotometricConfig
from training.finetune import FinetuneConfig
from training.mlflow_utils import DocTrainConfig, file_sha256, git_commit, log_figure, loss_curve_figure, mlflow_run, setup_tensorflow
from training.prepare import View, load_split
from training.train_craft import save_plain
from training.unet_data import (as_input_image, class_masks, half_images, input_maps, make_doc_dataset, pixel_weights,
                                stack_input, text_masks, train_images)
from veid.config import load_section, to_mapping
from veid.logs import get_logger, setup_logging
from veid.types import FIELD_CLASS

log = get_logger(__name__)


@dataclass(frozen=True)
class UnetTrainConfig:
    """``params.yaml: unet``: UNET architecture and training schedule.

    Attributes:
        model: network architecture.
        input_maps: ``craft`` feeds the trained CRAFT model's predicted maps (what the
            pipeline will see), ``target`` the Gaussian targets (no CRAFT needed; tests).
        max_train_docs: training documents used (CRAFT runs once over each of them).
        epochs: passes of ``steps_per_epoch`` batches.
        steps_per_epoch: batches per epoch (documents drawn at random).
        batch_size: documents per batch.
        learning_rate: Adam learning rate (cosine-decayed to 5 %).
        ema_momentum: > 0: validate, checkpoint and ship an exponential moving average of
            the weights (Polyak averaging; Keras' ``use_ema``) with this momentum per step.
            Single-document batches make the raw weights jump: validation mIoU swung by
            0.1 between epochs and whole runs differed by as much, so the checkpoint picked
            was partly luck. 0 turns it off.
        dice_weight: weight of the soft-Dice term added to the cross-entropy.
        field_weight: cross-entropy weight of field pixels (background 1): fields cover
            about 1 % of a document, so unweighted training first learns "all background".
        text_weight: cross-entropy weight of the pixels of all other printed words (expiry
            and issue dates, labels, addresses). With only the fields weighted, painting an
            uncertain date as "date of birth" costs a tenth of missing one, so the UNET learned
            to paint every date; weighting the other text as much makes it tell them apart.
        map_noise: std of Gaussian noise added to the input maps (robustness).
        map_blur: maximum sigma (map px) of a random Gaussian blur of the input maps, plus a
            random gain in [0.8, 1.1] (makes target maps look like CRAFT predictions).
        val_docs: validation documents scored at the end of each epoch.
        augment: photometric augmentation of the image channels.
        finetune: the second phase, which adapts the flat-trained network to the pages the
            pipeline sees.
    """

    model: UnetConfig = UnetConfig()
    input_maps: Literal["craft", "target"] = "target"
    max_train_docs: int = 500
    epochs: int = 8
    steps_per_epoch: int = 60
    batch_size: int = 4
    learning_rate: float = 0.006
    ema_momentum: float = 0.0
    dice_weight: float = 1.0
    field_weight: float = 10.0
    text_weight: float = 1.0
    map_noise: float = 0.03
    map_blur: float = 1.5
    val_docs: int = 24
    augment: PhotometricConfig = PhotometricConfig()
    finetune: FinetuneConfig = FinetuneConfig()


def ce_dice_loss(dice_weight: float, field_weight: float = 1.0, n_classes: int = N_CLASSES):
    """Weighted cross-entropy + ``dice_weight`` x (1 - mean soft Dice of the 4 fields).

    ``y_true`` is either one-hot ``(B, h, w, n_classes)``, field pixels then weighted
    ``field_weight``, or :func:`targets` output, whose last channel is each pixel's weight.
    Auxiliary label classes (beyond the 5) enter the cross-entropy only.
    """
    from keras import ops

    class_w = np.array([1.0] + [field_weight] * (N_CLASSES - 1) + [1.0] * (n_classes - N_CLASSES), np.float32)

    def loss(y_true, y_pred):
        y_pred = ops.clip(y_pred, 1e-6, 1.0)
        if y_true.shape[-1] == n_classes + 1:
            y_true, weight = y_true[..., :-1], y_true[..., -1]
        else:
            weight = ops.sum(class_w * y_true, axis=-1)
        ce = -ops.mean(weight * ops.sum(y_true * ops.log(y_pred), axis=-1))
        t, p = y_true[..., 1:N_CLASSES], y_pred[..., 1:N_CLASSES]
        inter = ops.sum(t * p, axis=(0, 1, 2))
        dice = (2 * inter + 1.0) / (ops.sum(t, axis=(0, 1, 2)) + ops.sum(p, axis=(0, 1, 2)) + 1.0)
        return ce + dice_weight * (1.0 - ops.mean(dice))

    return loss


def ce_dice_numpy(y_true: np.ndarray, y_pred: np.ndarray, dice_weight: float, weights: np.ndarray) -> float:
    """:func:`ce_dice_loss` in NumPy (validation without a second forward pass); ``y_true`` one-hot."""
    y_pred = np.clip(y_pred, 1e-6, 1.0)
    ce = -np.mean(weights * np.sum(y_true * np.log(y_pred), axis=-1))
    t, p = y_true[..., 1:N_CLASSES], y_pred[..., 1:N_CLASSES]
    dice = (2 * (t * p).sum(axis=(0, 1, 2)) + 1.0) / (t.sum(axis=(0, 1, 2)) + p.sum(axis=(0, 1, 2)) + 1.0)
    return float(ce + dice_weight * (1.0 - dice.mean()))


class PixelIoU:
    """Dataset pixel IoU per field: summed intersections over summed unions of class masks."""

    def __init__(self) -> None:
        self.inter = {f: 0 for f in FIELD_CLASS}
        self.union = {f: 0 for f in FIELD_CLASS}
        self.docs = 0

    def add(self, labels: np.ndarray, truth: np.ndarray) -> None:
        """Count argmax ``labels`` against their ``truth`` masks (one document or a batch)."""
        self.docs += 1
        for f, c in FIELD_CLASS.items():
            p, q = labels == c, truth == c
            self.inter[f] += int(np.logical_and(p, q).sum())
            self.union[f] += int(np.logical_or(p, q).sum())

    def result(self, ndigits: int | None = None) -> dict[str, float]:
        """IoU per field name (1.0 where neither mask has the field), rounded to ``ndigits`` if given."""
        ious = {f.value: self.inter[f] / self.union[f] if self.union[f] else 1.0 for f in FIELD_CLASS}
        return ious if ndigits is None else {k: round(v, ndigits) for k, v in ious.items()}


def field_iou(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Dataset IoU per field of one batch of class masks (see :class:`PixelIoU`)."""
    acc = PixelIoU()
    acc.add(pred, truth)
    return acc.result()


def train_unet(prepared: Path, craft_path: Path, out: Path, cfg: UnetTrainConfig, common: DocTrainConfig,
               init: Path | None = None):
    """Train, log to MLflow and save the UNET to ``out``; returns ``(model, history)``.

    Phase 1 trains on flat renders for ``cfg.epochs``; phase 2 (``cfg.finetune.epochs`` > 0)
    continues on flat renders and capture views, validated on both. With ``init``, phase 1 is
    skipped and phase 2 starts from those weights (a trained phase-1 network).
    """
    import keras
    import mlflow

    import models.layers  # noqa: F401  (registers custom layers)

    setup_tensorflow(common)
    train, val = load_split(prepared, "train"), load_split(prepared, "val")
    rng = np.random.default_rng(common.seed)
    train_ids = sorted(rng.permutation(len(train))[: cfg.max_train_docs].tolist())
    val_ids = list(range(min(cfg.val_docs, len(val))))
    src, ft = cfg.input_maps, cfg.finetune
    tr_maps = input_maps(train, train_ids, src, craft_path)
    tr_img, va_img = train_images(train, train_ids, cfg.model), half_images(val, val_ids)
    tr_mask = class_masks(np.asarray(train.masks[train_ids]), cfg.model)
    va_mask = class_masks(np.asarray(val.masks[val_ids]), cfg.model)
    tr_w = pixel_weights(tr_mask, text_masks(train, train_ids), cfg.field_weight, cfg.text_weight)
    va_w = pixel_weights(va_mask, text_masks(val, val_ids), cfg.field_weight, cfg.text_weight)
    views: tuple[View, ...] = ("image", "capture") if ft.epochs > 0 else ("image",)
    va_x = {}
    for view in views:
        va_in = as_input_image(train_images(val, val_ids, cfg.model, view), cfg.model)
        va_x[view] = stack_input(input_maps(val, val_ids, src, craft_path, view), va_in if cfg.model.use_image else None)
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}

    def fit(model, data, epochs: int, learning_rate: float, shown: tuple[View, ...], first_epoch: int, phase: str) -> None:
        """One phase: fresh Adam (and EMA), validated on the ``shown`` views after each epoch; the
        weights with the best mean validation mIoU over those views are kept (and saved as they come)."""
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, epochs * cfg.steps_per_epoch, alpha=0.05)
        ema = {"use_ema": True, "ema_momentum": cfg.ema_momentum} if cfg.ema_momentum > 0 else {}
        model.compile(optimizer=keras.optimizers.Adam(schedule, **ema),
                      loss=ce_dice_loss(cfg.dice_weight, cfg.field_weight, cfg.model.out_channels))
        best = {"miou": -1.0, "weights": None}

        class EpochEnd(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                metrics = {"loss": float(logs["loss"])}
                for view in shown:
                    probs = self.model.predict(va_x[view], batch_size=4, verbose=0)
                    prefix = "val" if view == "image" else f"val_{view}"
                    one_hot = np.eye(cfg.model.out_channels, dtype=np.float32)[va_mask]
                    metrics[f"{prefix}_loss"] = ce_dice_numpy(one_hot, probs, cfg.dice_weight, va_w)
                    ious = field_iou(fold_label_classes(probs).argmax(-1), va_mask)
                    metrics[f"{prefix}_miou"] = float(np.mean(list(ious.values())))
                    metrics.update({f"{prefix}_iou_{k}": v for k, v in ious.items()})
                miou = float(np.mean([metrics["val_miou" if v == "image" else f"val_{v}_miou"] for v in shown]))
                history["loss"].append(metrics["loss"])
                history["val_loss"].append(metrics["val_loss"])
                mlflow.log_metrics(metrics, step=first_epoch + epoch + 1)
                log.info("unet epoch %d: %s", first_epoch + epoch + 1, json.dumps({k: round(v, 4) for k, v in metrics.items()}))
                if miou >= best["miou"]:
                    best["miou"], best["weights"] = miou, self.model.get_weights()
                    save_plain(self.model, out)  # checkpoint: the best model so far is always on disk

        # With EMA, the averaged weights are swapped in before EpochEnd validates and saves them.
        swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if ema else []
        model.fit(data, epochs=epochs, verbose=2, callbacks=[*swap, EpochEnd()])
        if best["weights"] is not None:
            model.set_weights(best["weights"])
        mlflow.log_metric(f"best_val_miou{phase}", best["miou"])

    with mlflow_run(common, "train_unet", {"unet": to_mapping(cfg)}) as run:
        mlflow.log_params({"train_docs": len(train_ids), "val_docs": len(val_ids), "init": str(init or "")})
        done = 0
        # the starting weights, hashed before checkpoints could overwrite them (--init may equal --out)
        origin = {"finetuned_from": file_sha256(init)} if init is not None else {}
        if init is None:
            model = build_unet(cfg.model)
            fit(model, make_doc_dataset(tr_maps, tr_img, tr_mask, tr_w, cfg, common.seed), cfg.epochs, cfg.learning_rate,
                ("image",), 0, "")
            done = cfg.epochs
        else:
            model = keras.saving.load_model(init, compile=False)
        if ft.epochs > 0:
            captures = (input_maps(train, train_ids, src, craft_path, "capture"),
                        train_images(train, train_ids, cfg.model, "capture"))
            sizes = np.array([[(w + 1) // 2, (h + 1) // 2] for w, h in (train.size(i) for i in train_ids)])
            data = make_doc_dataset(tr_maps, tr_img, tr_mask, tr_w, cfg, common.seed, sizes, captures,
                                    ft.capture_share, ft.geometric)
            fit(model, data, ft.epochs, ft.learning_rate, views, done, "_finetune")
        save_plain(model, out)
        record = write_record(out, "unet", {"use_image": cfg.model.use_image, "image_detail": cfg.model.image_detail, "config": to_mapping(cfg.model)},
                              git_commit=git_commit(), mlflow_run_id=run.info.run_id,
                              **origin)
        mlflow.log_artifact(str(out), artifact_path="model")
        mlflow.log_artifact(str(record), artifact_path="model")
        mlflow.set_tag("sha256", file_sha256(out))
        log_figure(loss_curve_figure(history, "UNET loss"), "plots/unet_loss.png")
        from training.docmodel_plots import unet_sample_figure

        probs = fold_label_classes(model.predict(va_x["image"][:3], verbose=0))
        for j in range(min(3, len(val_ids))):
            log_figure(unet_sample_figure(va_img[j], probs[j], va_mask[j]), f"plots/unet_val_{j}.png")
        log.info("unet run %s saved %s", run.info.run_id, out)
    return model, history


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: reads ``unet`` and ``doc_train`` from params."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--prepared", default="data/prepared")
    parser.add_argument("--craft", default="models/weights/craft.keras", help="used only with unet.input_maps: craft")
    parser.add_argument("--out", default="models/weights/unet.keras")
    parser.add_argument("--init", default=None,
                        help="skip the first (flat) phase and fine-tune these weights (unet.finetune)")
    args = parser.parse_args(argv)
    setup_logging()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cfg = load_section(args.params, "unet", UnetTrainConfig)
    common = load_section(args.params, "doc_train", DocTrainConfig)
    if args.init and cfg.finetune.epochs <= 0:
        parser.error("--init needs unet.finetune.epochs > 0 (it skips the first phase)")
    train_unet(Path(args.prepared), Path(args.craft), Path(args.out), cfg, common, Path(args.init) if args.init else None)


if __name__ == "__main__":
    main()
