"""DVC stage ``train_captions``: the caption classifier of ``pipelines/document/captions.py``.

``python -m training.train_captions --params params.yaml``

Examples are the text lines of the ``generate`` stage's captured document fronts: each line's box (its
words' known boxes, grouped by row) is jittered the way the pipeline's word boxes differ from the printed
ones, the strip above its text (:func:`pipelines.document.captions.caption_box`) is cut out of the photo
through the sample's homography at the flat document's scale (as the pipeline's page shows it), and
labelled with the field its words hold (``other`` for a share ``other_share`` of every other line:
captions, addresses, other dates, titles). Lines of the training split train the CNN; lines of the validation split (other persons) score
it. MRZ lines are left out: the MRZ reader reads them.

Metrics (``data/metrics/captions.json``): held-out accuracy, each class's precision and recall, and, at
``document_captions.min_probability``, the share of lines decided and the accuracy of those decisions, over
all fronts and over driver-licence fronts alone (where Tesseract reads the fewest captions), at
``captions_train.report_probability`` (the pipeline's own threshold, ``document_captions.min_probability``, is
chosen afterwards on the pipeline's results and may differ).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from models.registry import write_record
from pipelines.document.captions import (
    CLASSES, INPUT_SHAPE, CaptionModel, caption_box, normalize, text_extent,
)
from training.docmodel_plots import confusion_figure
from training.mlflow_utils import DocTrainConfig, git_commit, log_classifier_run
from veid.config import load_section, to_mapping
from veid.errors import InputError
from veid.logs import get_logger
from veid.types import Box

log = get_logger(__name__)


@dataclass(frozen=True)
class CaptionTrainConfig:
    """``params.yaml`` section ``captions_train``.

    Attributes:
        synth_dir: the generated documents of the ``generate`` stage (training split: examples; validation
            split: held-out scores).
        seed: random seed (jitter, initialisation, shuffling).
        field_copies: jittered copies of each key-field line (other lines: one), so the four fields are
            not drowned by the fifteen or so other lines of a document.
        other_share: share of the other lines of a training document kept (held-out documents keep all).
        jitter_top: ``(low, high)`` of the line box's top moved up, in line heights (CRAFT's boxes are grown
            by a quarter of the text height above and below).
        jitter_bottom: the same, for the bottom moved down.
        jitter_left: the same, for the start moved left.
        filters: channels of the three convolutions.
        hidden: units of the dense layer.
        epochs: most training epochs (early stopping on 10 % of the training examples).
        batch_size: examples per step.
        learning_rate: Adam learning rate.
        report_probability: the held-out lines decided, and how many of them right, are reported at this
            probability.
        model_out, metrics_out: outputs.
        tracking_uri, experiment: MLflow (``MLFLOW_TRACKING_URI`` overrides).
    """

    synth_dir: str = "data/synth"
    seed: int = 5
    field_copies: int = 3
    other_share: float = 0.5
    jitter_top: tuple[float, float] = (-0.05, 0.3)
    jitter_bottom: tuple[float, float] = (-0.05, 0.3)
    jitter_left: tuple[float, float] = (-0.1, 0.3)
    filters: tuple[int, int, int] = (16, 32, 48)
    hidden: int = 64
    epochs: int = 14
    batch_size: int = 128
    learning_rate: float = 0.002
    report_probability: float = 0.9
    model_out: str = "models/weights/captions.npz"
    metrics_out: str = "data/metrics/captions.json"
    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "veid-document-models"


@dataclass
class Examples:
    """Strips ``x`` (``(N, *INPUT_SHAPE)``), class indices ``y`` and each example's document family."""

    x: list = field(default_factory=list)
    y: list = field(default_factory=list)
    family: list = field(default_factory=list)


def text_lines(words: list[dict]) -> list[tuple[Box, str]]:
    """The printed lines of a generated document: ``(box on the flat document, class name)``, words grouped
    by row (centres within a third of a height, gaps under 1.5 heights); MRZ words are left out."""
    boxes = []
    for w in words:
        if "<" in w["text"]:
            continue
        q = np.asarray(w["quad_flat"], np.float64)
        boxes.append((Box(*q.min(axis=0), *q.max(axis=0)), w.get("field") or "other"))
    boxes.sort(key=lambda b: (b[0].center[1], b[0].x0))
    lines: list[list[tuple[Box, str]]] = []
    for b, f in boxes:
        for line in lines:
            last = line[-1][0]
            if abs(b.center[1] - last.center[1]) < last.height / 3 and -0.2 * last.height < b.x0 - last.x1 < 1.5 * last.height:
                line.append((b, f))
                break
        else:
            lines.append([(b, f)])
    out = []
    for line in lines:
        box = line[0][0]
        for b, _ in line[1:]:
            box = box.union(b)
        named = [f for _, f in line if f != "other"]
        out.append((box, named[0] if named else "other"))
    return out


def jittered(line: Box, rng: np.random.Generator, cfg: CaptionTrainConfig) -> Box:
    """``line`` with its top, bottom and start moved by random shares of its height (see the config)."""
    h = line.height
    return Box(line.x0 - rng.uniform(*cfg.jitter_left) * h, line.y0 - rng.uniform(*cfg.jitter_top) * h,
               line.x1, line.y1 + rng.uniform(*cfg.jitter_bottom) * h)


def _warp_flat(gray: np.ndarray, hom: np.ndarray, box: Box) -> np.ndarray:
    """``box`` (flat-document pixels) cut out of the photo ``gray`` through the homography ``hom``, at the
    flat document's scale (as the pipeline's page shows it)."""
    src = np.array([[box.x0, box.y0, 1], [box.x1, box.y0, 1], [box.x1, box.y1, 1], [box.x0, box.y1, 1]],
                   np.float64) @ hom.T
    src = (src[:, :2] / src[:, 2:]).astype(np.float32)
    w_out, h_out = max(4, round(box.width)), max(2, round(box.height))
    dst = np.array([[0, 0], [w_out, 0], [w_out, h_out], [0, h_out]], np.float32)
    return cv2.warpPerspective(gray, cv2.getPerspectiveTransform(src, dst), (w_out, h_out), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def capture_strip(record: dict, image: np.ndarray, line: Box) -> np.ndarray:
    """The classifier input for ``line`` (flat-document pixels) of a generated capture, found as the pipeline
    finds it on its page (:func:`pipelines.document.captions.strip_input`): the text's rows in the line's box,
    then the strip above them."""
    hom = np.asarray(record["homography"], np.float64)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    rows = text_extent(_warp_flat(gray, hom, line))
    return normalize(_warp_flat(gray, hom, caption_box(line, rows)))


def split_examples(synth_dir: Path, split: str, cfg: CaptionTrainConfig, seed: int, copies: bool) -> Examples:
    """Examples from the fronts of one split; with ``copies``, key-field lines ``field_copies`` times."""
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    out = Examples()
    records = [json.loads(line) for line in (synth_dir / "manifest.jsonl").read_text().splitlines() if line.strip()]
    records = [r for r in records if r.get("split") == split and r.get("side") == "front" and r.get("fields")]
    for r in tqdm(records, desc=f"caption strips ({split})", unit="doc"):
        image = cv2.cvtColor(cv2.imread(str(synth_dir / r["image"])), cv2.COLOR_BGR2RGB)
        for box, name in text_lines(r["words"]):
            if copies and name == "other" and rng.random() >= cfg.other_share:
                continue
            for _ in range(cfg.field_copies if copies and name != "other" else 1):
                out.x.append(capture_strip(r, image, jittered(box, rng, cfg)))
                out.y.append(CLASSES.index(name))
                out.family.append(r["family"])
    return out


def fit(ex: Examples, cfg: CaptionTrainConfig) -> CaptionModel:
    """The CNN of :class:`CaptionModel` fitted in Keras (Adam, early stopping on a random 10 %), exported for
    NumPy and checked against the Keras network."""
    import keras

    keras.utils.set_random_seed(cfg.seed)
    x, y = np.asarray(ex.x, np.float32)[..., None], np.asarray(ex.y)
    order = np.random.default_rng(cfg.seed).permutation(len(y))  # validation_split takes the last 10 %
    x, y = x[order], y[order]
    inp = keras.Input(INPUT_SHAPE + (1,))
    h = inp
    for width in cfg.filters:
        h = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(h)
        h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Dense(cfg.hidden, activation="relu")(keras.layers.Dropout(0.3)(keras.layers.Flatten()(h)))
    net = keras.Model(inp, keras.layers.Dense(len(CLASSES))(keras.layers.Dropout(0.2)(h)))
    net.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    net.fit(x, y, batch_size=cfg.batch_size, epochs=cfg.epochs, validation_split=0.1, verbose=2,
            callbacks=[keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)])
    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    dense = [layer for layer in net.layers if isinstance(layer, keras.layers.Dense)]
    model = CaptionModel(*(np.asarray(v, np.float32) for layer in convs + dense for v in layer.get_weights()))
    probe = x[:128]
    want = keras.ops.convert_to_numpy(keras.ops.softmax(net(probe)))
    if not np.allclose(model.predict_proba(probe[..., 0]), want, atol=1e-4):
        raise RuntimeError("the NumPy caption model disagrees with the Keras network it was exported from")
    return model


def evaluate(model: CaptionModel, ex: Examples, min_probability: float) -> dict:
    """Accuracy, per-class precision and recall, the confusion matrix (rows: truth), and at
    ``min_probability`` the share of lines decided and the accuracy of the decisions."""
    if not ex.y:
        raise InputError("no held-out caption examples: is the generate stage's validation split empty?")
    p = np.concatenate([model.predict_proba(np.asarray(ex.x[i:i + 512])) for i in range(0, len(ex.y), 512)])
    y, pred, conf = np.asarray(ex.y), p.argmax(axis=1), p.max(axis=1)
    n = len(CLASSES)
    confusion = np.zeros((n, n), int)
    np.add.at(confusion, (y, pred), 1)
    sure = conf >= min_probability
    out = {"lines": int(len(y)), "accuracy": round(float((pred == y).mean()), 4),
           "decided": round(float(sure.mean()), 4),
           "decided_accuracy": round(float((pred[sure] == y[sure]).mean()), 4) if sure.any() else None,
           "confusion": confusion.tolist()}
    for k, name in enumerate(CLASSES):
        out[f"recall.{name}"] = round(float(confusion[k, k] / max(confusion[k].sum(), 1)), 4)
        out[f"precision.{name}"] = round(float(confusion[k, k] / max(confusion[:, k].sum(), 1)), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml", help="params file (section captions_train)")
    args = ap.parse_args(argv)
    cfg = load_section(args.params, "captions_train", CaptionTrainConfig)
    t0 = time.perf_counter()
    synth_dir = Path(cfg.synth_dir)
    if not (synth_dir / "manifest.jsonl").is_file():
        raise InputError(f"{synth_dir}/manifest.jsonl missing: run the generate stage first "
                         "(cd data && dvc repro -s generate)")
    train = split_examples(synth_dir, "train", cfg, cfg.seed, copies=True)
    held = split_examples(synth_dir, "val", cfg, cfg.seed + 1, copies=False)
    model = fit(train, cfg)
    licence = [i for i, f in enumerate(held.family) if f == "driver_license_aamva"]
    held_licence = Examples([held.x[i] for i in licence], [held.y[i] for i in licence])
    metrics = {"held_out": evaluate(model, held, cfg.report_probability),
               "held_out_licence": evaluate(model, held_licence, cfg.report_probability),
               "train_lines": len(train.y), "seconds": round(time.perf_counter() - t0, 1)}
    out = Path(cfg.model_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    model.save(tmp)
    tmp.replace(out)
    h, hl = metrics["held_out"], metrics["held_out_licence"]
    summary = {"captions": {"accuracy": h["accuracy"], "decided": h["decided"], "decided_accuracy": h["decided_accuracy"],
                            **{k: v for k, v in h.items() if k.startswith(("recall.", "precision."))},
                            "licence_accuracy": hl["accuracy"], "licence_decided": hl["decided"],
                            "licence_decided_accuracy": hl["decided_accuracy"]},
               "detail": metrics}
    metrics_out = Path(cfg.metrics_out)
    metrics_out.parent.mkdir(parents=True, exist_ok=True)
    metrics_out.write_text(json.dumps(summary, indent=2) + "\n")
    figure = confusion_figure(h["confusion"], CLASSES, "caption classifier, held-out generated captures",
                              xlabel="given", ylabel="printed")
    run_id = log_classifier_run(DocTrainConfig(tracking_uri=cfg.tracking_uri, experiment=cfg.experiment),
                                "train_captions", to_mapping(cfg), summary["captions"], out, figure,
                                "captions_confusion.png")
    write_record(out, "captions", {"input_shape": list(INPUT_SHAPE), "classes": list(CLASSES),
                                   "filters": list(cfg.filters), "hidden": cfg.hidden},
                 git_commit=git_commit(), mlflow_run_id=run_id)
    log.info("caption classifier: held-out accuracy %.3f (licences %.3f), %.0f %% decided at %.2f with accuracy %s "
             "(%d training strips, %.0f s)", h["accuracy"], hl["accuracy"], 100 * h["decided"], cfg.report_probability,
             h["decided_accuracy"], len(train.y), metrics["seconds"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
