"""Train the field UNET on CRAFT's maps of the prepared flat documents (whole documents, half resolution)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from models.unet import N_CLASSES, UnetConfig, build_unet, fold_label_classes, fold_pixels
from training.augment import GeometricConfig, PhotometricConfig, photometric, rescale_matrix, similarity_matrix, warp
from models.registry import write_record
from training.mlflow_utils import DocTrainConfig, file_sha256, git_commit, log_figure, loss_curve_figure, mlflow_run, setup_tensorflow
from training.prepare import PreparedSplit, load_split
from training.train_craft import save_plain
from veid.config import load_section, to_mapping
from veid.errors import InputError
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
        capture_share: share of training documents shown as their camera capture seen through
            the known homography (``{split}_capture.npy``: blur, glare, JPEG, shading; CRAFT's maps
            predicted on that view) instead of the flat render. The pipeline sees captures: a
            UNET trained on flat renders alone painted no field on glared licence photos whose
            flat renders it segmented at probability 0.99.
        geometric: random similarity transforms of whole documents (maps, image, masks and
            pixel weights together), so that a field is told by what surrounds it rather than
            by where it sits on the canvas.
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
    capture_share: float = 0.0
    geometric: GeometricConfig = GeometricConfig()


View = Literal["image", "capture"]


def view_images(split: PreparedSplit, view: View) -> np.ndarray:
    """The split's flat renders (``image``) or its captures seen flat (``capture``).

    Raises:
        InputError: ``capture`` asked of a split prepared before captures were added.
    """
    if view == "image":
        return split.images
    if split.captures is None:
        raise InputError("the prepared data has no capture views (re-run the prepare stage)")
    return split.captures


def half_images(split: PreparedSplit, ids: Sequence[int], view: View = "image") -> np.ndarray:
    """Canvas images resized to the map grid, uint8 ``(n, h/2, w/2, 3)``."""
    import cv2

    h, w = split.maps.shape[1:3]
    images = view_images(split, view)
    return np.stack([cv2.resize(np.asarray(images[i]), (w, h), interpolation=cv2.INTER_AREA) for i in ids])


def train_images(split: PreparedSplit, ids: Sequence[int], model: UnetConfig, view: View = "image") -> np.ndarray:
    """The images the UNET trains on, before augmentation: canvas images at full
    resolution with ``image_detail`` (folded after augmentation), else on the map grid."""
    return np.asarray(view_images(split, view)[list(ids)]) if model.image_detail else half_images(split, ids, view)


def as_input_image(images: np.ndarray, model: UnetConfig) -> np.ndarray:
    """Augmented training images -> the UNET's image channels (see :func:`models.unet.fold_pixels`)."""
    return fold_pixels(images) if model.image_detail else images


def input_maps(split: PreparedSplit, ids: Sequence[int], source: str, craft_path: Path | None,
               view: View = "image") -> np.ndarray:
    """Region/affinity inputs for the UNET, uint8 ``(n, h/2, w/2, 2)`` (x 255).

    With ``source == "craft"`` the CRAFT model at ``craft_path`` predicts them (once, with a
    progress bar) on the ``view``; padding outside each document is zeroed as the pipeline would.
    """
    if source == "target":
        return np.asarray(split.maps[list(ids)])
    import keras
    from tqdm import tqdm

    import models.layers  # noqa: F401  (registers custom layers)

    craft = keras.saving.load_model(craft_path, compile=False)
    images = view_images(split, view)
    out = np.zeros((len(ids), *split.maps.shape[1:]), np.uint8)
    for k, i in enumerate(tqdm(ids, desc=f"craft maps ({view})", unit="doc")):
        pred = np.asarray(craft.predict_on_batch(images[i : i + 1].astype(np.float32)))[0]
        w, h = split.size(i)
        mh, mw = (h + 1) // 2, (w + 1) // 2
        out[k, :mh, :mw] = np.clip(np.rint(pred[:mh, :mw] * 255), 0, 255).astype(np.uint8)
    return out


def text_masks(split: PreparedSplit, ids: Sequence[int]) -> np.ndarray:
    """uint8 ``(n, h/2, w/2)``: 1 inside any printed word's box (the prepared word quads), on the map grid."""
    import cv2

    h, w = split.masks.shape[1:3]
    out = np.zeros((len(ids), h, w), np.uint8)
    for k, i in enumerate(ids):
        for quad in split.word_quads(i):
            cv2.fillPoly(out[k], [np.round(quad * 0.5).astype(np.int32)], 1)
    return out


def pixel_weights(masks: np.ndarray, text: np.ndarray, field_weight: float, text_weight: float) -> np.ndarray:
    """Cross-entropy weight per pixel: ``field_weight`` on fields (classes 1..4), ``text_weight``
    on other words (labels included), 1 elsewhere."""
    weights = np.where(text > 0, np.float32(text_weight), np.float32(1.0))
    weights[(masks > 0) & (masks < N_CLASSES)] = field_weight
    return weights


def class_masks(masks: np.ndarray, model: UnetConfig) -> np.ndarray:
    """The prepared masks as the model's classes: label classes (5..8) kept only when the
    model segments them (``label_classes``), else background."""
    return masks if model.label_classes else np.where(masks < N_CLASSES, masks, 0).astype(masks.dtype)


def targets(masks: np.ndarray, weights: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Keras targets ``(..., n_classes + 1)``: the one-hot classes and, last, each pixel's weight."""
    return np.concatenate([np.eye(n_classes, dtype=np.float32)[masks], weights[..., None].astype(np.float32)], axis=-1)


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


def stack_input(maps_u8: np.ndarray, image_u8: np.ndarray | None) -> np.ndarray:
    """UNET input batch: maps in [0, 1] and, if given, RGB in [0, 255]."""
    x = maps_u8.astype(np.float32) / 255.0
    return x if image_u8 is None else np.concatenate([x, image_u8.astype(np.float32)], axis=-1)


def field_iou(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Dataset IoU per field: summed intersections over summed unions of class masks."""
    out = {}
    for f, c in FIELD_CLASS.items():
        p, t = pred == c, truth == c
        union = np.logical_or(p, t).sum()
        out[f.value] = float(np.logical_and(p, t).sum() / union) if union else 1.0
    return out


def make_doc_dataset(maps, images, masks, weights, cfg: UnetTrainConfig, seed: int, sizes: np.ndarray | None = None,
                     captures: tuple[np.ndarray, np.ndarray] | None = None):
    """A Keras ``PyDataset`` of augmented whole-document batches, seeded per batch (two threads
    prepare batches while TensorFlow trains; each batch's randomness depends only on its index).

    ``sizes``: each document's ``(w, h)`` on the map grid, the frame of ``cfg.geometric``'s
    transforms (default: the whole grid). ``captures``: ``(maps, images)`` of the same documents'
    capture views, drawn instead with probability ``cfg.capture_share``."""
    import keras

    class DocBatches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__(workers=2, use_multiprocessing=False)
            self.epoch = 0

        def __len__(self) -> int:
            return cfg.steps_per_epoch

        def on_epoch_end(self) -> None:
            self.epoch += 1

        def __getitem__(self, idx: int):
            rng = np.random.default_rng([seed, 1000 + self.epoch, idx])
            ids = rng.integers(len(maps), size=cfg.batch_size)
            shown = [(maps, images)] * len(ids)
            if captures is not None and cfg.capture_share > 0:
                shown = [captures if c else (maps, images) for c in rng.random(len(ids)) < cfg.capture_share]
            m = np.stack([v[0][i] for v, i in zip(shown, ids)]).astype(np.float32) / 255.0
            imgs = [v[1][i] for v, i in zip(shown, ids)] if cfg.model.use_image else []
            mk, wt = masks[ids], weights[ids]
            if cfg.geometric.prob > 0:
                mk, wt = mk.copy(), wt.copy()
                full = images.shape[1] / maps.shape[1]  # image pixels per map pixel
                for k, i in enumerate(ids):
                    if rng.random() >= cfg.geometric.prob:
                        continue
                    frame = tuple(sizes[i]) if sizes is not None else (maps.shape[2], maps.shape[1])
                    mat = similarity_matrix(rng, cfg.geometric, frame)
                    m[k], mk[k] = warp(m[k], mat), warp(mk[k], mat, nearest=True)
                    wt[k] = warp(wt[k], mat, nearest=True, border=1.0)
                    if imgs:
                        imgs[k] = warp(np.asarray(imgs[k]), rescale_matrix(mat, full) if full != 1 else mat)
            if cfg.map_blur > 0:  # mimic CRAFT's softer predictions when training on targets
                import cv2

                for k in range(len(m)):
                    sigma = rng.uniform(0.0, cfg.map_blur)
                    if sigma > 0.3:
                        m[k] = cv2.GaussianBlur(m[k], (0, 0), sigma)
                    m[k] *= rng.uniform(0.8, 1.1)
            m = np.clip(m + rng.normal(0, cfg.map_noise, m.shape).astype(np.float32), 0, 1)
            parts = [m]
            if cfg.model.use_image:
                augmented = np.stack([photometric(img, rng, cfg.augment) for img in imgs])
                parts.append(as_input_image(augmented, cfg.model).astype(np.float32))
            y = targets(mk, wt, cfg.model.out_channels)
            return np.concatenate(parts, axis=-1), y

    return DocBatches()


def train_unet(prepared: Path, craft_path: Path, out: Path, cfg: UnetTrainConfig, common: DocTrainConfig):
    """Train, log to MLflow and save the UNET to ``out``; returns ``(model, history)``."""
    import keras
    import mlflow

    setup_tensorflow(common)
    train, val = load_split(prepared, "train"), load_split(prepared, "val")
    rng = np.random.default_rng(common.seed)
    train_ids = sorted(rng.permutation(len(train))[: cfg.max_train_docs].tolist())
    val_ids = list(range(min(cfg.val_docs, len(val))))
    src = cfg.input_maps
    tr_maps = input_maps(train, train_ids, src, craft_path)
    tr_img, va_img = train_images(train, train_ids, cfg.model), half_images(val, val_ids)
    tr_mask = class_masks(np.asarray(train.masks[train_ids]), cfg.model)
    va_mask = class_masks(np.asarray(val.masks[val_ids]), cfg.model)
    tr_w = pixel_weights(tr_mask, text_masks(train, train_ids), cfg.field_weight, cfg.text_weight)
    va_w = pixel_weights(va_mask, text_masks(val, val_ids), cfg.field_weight, cfg.text_weight)
    views: tuple[View, ...] = ("image", "capture") if cfg.capture_share > 0 else ("image",)
    captures = None
    if cfg.capture_share > 0:
        captures = (input_maps(train, train_ids, src, craft_path, "capture"), train_images(train, train_ids, cfg.model, "capture"))
    va_x = {}  # validated on every view shown in training; the checkpoint kept has the best mean mIoU
    for view in views:
        va_in = as_input_image(train_images(val, val_ids, cfg.model, view), cfg.model)
        va_x[view] = stack_input(input_maps(val, val_ids, src, craft_path, view), va_in if cfg.model.use_image else None)

    model = build_unet(cfg.model)
    schedule = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, cfg.epochs * cfg.steps_per_epoch, alpha=0.05)
    ema = {"use_ema": True, "ema_momentum": cfg.ema_momentum} if cfg.ema_momentum > 0 else {}
    model.compile(optimizer=keras.optimizers.Adam(schedule, **ema), loss=ce_dice_loss(cfg.dice_weight, cfg.field_weight, cfg.model.out_channels))
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}
    best = {"miou": -1.0, "weights": None}

    class EpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            metrics = {"loss": float(logs["loss"])}
            for view, x in va_x.items():
                probs = self.model.predict(x, batch_size=4, verbose=0)
                prefix = "val" if view == "image" else f"val_{view}"
                metrics[f"{prefix}_loss"] = ce_dice_numpy(np.eye(cfg.model.out_channels, dtype=np.float32)[va_mask], probs, cfg.dice_weight, va_w)
                ious = field_iou(fold_label_classes(probs).argmax(-1), va_mask)
                metrics[f"{prefix}_miou"] = float(np.mean(list(ious.values())))
                metrics.update({f"{prefix}_iou_{k}": v for k, v in ious.items()})
            miou = float(np.mean([metrics["val_miou" if v == "image" else f"val_{v}_miou"] for v in views]))
            val_loss = metrics["val_loss"]
            history["loss"].append(metrics["loss"])
            history["val_loss"].append(val_loss)
            mlflow.log_metrics(metrics, step=epoch + 1)
            log.info("unet epoch %d: %s", epoch + 1, json.dumps({k: round(v, 4) for k, v in metrics.items()}))
            if miou >= best["miou"]:
                best["miou"], best["weights"] = miou, self.model.get_weights()
                save_plain(self.model, out)  # checkpoint: the best model so far is always on disk

    with mlflow_run(common, "train_unet", {"unet": to_mapping(cfg)}) as run:
        mlflow.log_params({"train_docs": len(train_ids), "val_docs": len(val_ids)})
        sizes = np.array([[(w + 1) // 2, (h + 1) // 2] for w, h in (train.size(i) for i in train_ids)])
        data = make_doc_dataset(tr_maps, tr_img, tr_mask, tr_w, cfg, common.seed, sizes, captures)
        # With EMA, the averaged weights are swapped in before EpochEnd validates and saves them.
        swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if ema else []
        model.fit(data, epochs=cfg.epochs, verbose=2, callbacks=[*swap, EpochEnd()])
        if best["weights"] is not None:
            model.set_weights(best["weights"])
        mlflow.log_metric("best_val_miou", best["miou"])
        save_plain(model, out)
        record = write_record(out, "unet", {"use_image": cfg.model.use_image, "image_detail": cfg.model.image_detail, "config": to_mapping(cfg.model)},
                              git_commit=git_commit(), mlflow_run_id=run.info.run_id)
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
    args = parser.parse_args(argv)
    setup_logging()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cfg = load_section(args.params, "unet", UnetTrainConfig)
    common = load_section(args.params, "doc_train", DocTrainConfig)
    train_unet(Path(args.prepared), Path(args.craft), Path(args.out), cfg, common)


if __name__ == "__main__":
    main()
