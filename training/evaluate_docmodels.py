"""Evaluate CRAFT (word boxes), the field UNET (IoU) and rapidocr's detector on the held-out test split.

Writes the DVC metrics file (``craft.precision/recall/hmean``, ``unet.iou.<field>`` (pixel
IoU of the UNET's argmax mask), ``unet.box_iou.<field>`` (IoU of the field box the pipeline
forms from the mask and CRAFT's words), ``unet.box_found.<field>`` (share of documents where
that box reaches IoU 0.5), ``unet.capture_iou.<field>`` and ``craft.captures.*`` (the same pixel
IoU and word boxes on the test documents' camera captures seen through their homographies, as
the pipeline's pages look),
``rapidocr.hmean`` ...) and logs the same numbers and plots (PR curve, overlays) to MLflow.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.boxes import MatchCounts, WordBoxConfig, decode_word_boxes, match_boxes
from models.field_words import match_field_words
from pipelines.document.fields import TextConfig
from training.mlflow_utils import DocTrainConfig, log_figure, mlflow_run
from training.prepare import load_split
from training.train_unet import PixelIoU
from veid.config import load_section, to_mapping
from veid.logs import get_logger, setup_logging
from veid.types import FIELD_CLASS, Box, Quad

log = get_logger(__name__)


@dataclass(frozen=True)
class DocEvalConfig:
    """``params.yaml: doc_eval``.

    Attributes:
        decode: word-box decoding thresholds (also used by training validation).
        iou_threshold: a predicted word box counts when its IoU with a true box reaches this.
        max_docs: evaluate at most this many test documents (0 = all).
        rapidocr: also score rapidocr's own text detector on the same images.
        peer_docs: rapidocr (about 1 s per image on 2 cores) runs on the first this many
            test documents (0 = all); CRAFT is also reported on exactly that subset.
        pr_region_low: ``region_low`` values swept for the precision/recall curve.
        captures: also score CRAFT + UNET on the capture views (``unet.capture_iou``, ``craft.captures``).
    """

    decode: WordBoxConfig = WordBoxConfig()
    iou_threshold: float = 0.5
    max_docs: int = 0
    rapidocr: bool = True
    peer_docs: int = 60
    pr_region_low: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    captures: bool = True


def rapidocr_detector(threads: int = 2):
    """rapidocr's detection-only engine (PP-OCR DBNet, weights ship in its wheel), defaults kept."""
    from rapidocr import RapidOCR

    engine = RapidOCR(params={
        "Global.log_level": "warning",
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    })

    def detect(image_rgb: np.ndarray) -> list[Quad]:
        out = engine(image_rgb[..., ::-1].copy(), use_det=True, use_cls=False, use_rec=False)
        boxes = out.boxes if out.boxes is not None else []
        return [Quad.from_array(b) for b in boxes]

    return detect


def evaluate(prepared: Path, weights_dir: Path | None, cfg: DocEvalConfig, threads: int = 2,
             text: TextConfig = TextConfig()) -> dict:
    """Score the shipped (or given) models on the test split; returns the nested metrics dict."""
    from tqdm import tqdm

    from models.registry import load_document_models

    models = load_document_models(weights_dir)
    test = load_split(prepared, "test")
    n = len(test) if cfg.max_docs <= 0 else min(cfg.max_docs, len(test))
    detect_peer = rapidocr_detector(threads) if cfg.rapidocr else None
    n_peer = n if cfg.peer_docs <= 0 else min(cfg.peer_docs, n)
    craft_counts, peer_counts, craft_on_peer = MatchCounts(0, 0, 0), MatchCounts(0, 0, 0), MatchCounts(0, 0, 0)
    craft_on_captures = MatchCounts(0, 0, 0)
    sweep = {t: MatchCounts(0, 0, 0) for t in cfg.pr_region_low}
    flat_iou, capture_iou = PixelIoU(), PixelIoU()
    box_ious: dict = {f: [] for f in FIELD_CLASS}
    times = {"craft_unet": [], "rapidocr": []}
    samples = []
    for i in tqdm(range(n), desc="evaluate", unit="doc"):
        w, h = test.size(i)
        image = np.ascontiguousarray(test.images[i, :h, :w])
        truth = [Quad.from_array(q) for q in test.word_quads(i)]
        t0 = time.perf_counter()
        maps = models.craft.predict(image)
        probs = models.unet.predict(maps, image)
        times["craft_unet"].append(time.perf_counter() - t0)
        pred = decode_word_boxes(maps, cfg.decode)
        counts = match_boxes(pred, truth, cfg.iou_threshold)
        craft_counts = craft_counts + counts
        for t in sweep:
            boxes = decode_word_boxes(maps, dataclasses.replace(cfg.decode, region_low=t))
            sweep[t] = sweep[t] + match_boxes(boxes, truth, cfg.iou_threshold)
        mh, mw = maps.shape
        true_mask = np.asarray(test.masks[i, :mh, :mw])
        flat_iou.add(probs.argmax(-1), true_mask)
        if cfg.captures and test.captures is not None:
            seen = np.ascontiguousarray(test.captures[i, :h, :w])
            seen_maps = models.craft.predict(seen)
            craft_on_captures = craft_on_captures + match_boxes(decode_word_boxes(seen_maps, cfg.decode), truth, cfg.iou_threshold)
            capture_iou.add(models.unet.predict(seen_maps, seen).argmax(-1), true_mask)
        for f, iou in field_box_ious(probs, pred, true_mask, maps.scale, text).items():
            box_ious[f].append(iou)
        if detect_peer is not None and i < n_peer:
            craft_on_peer = craft_on_peer + counts
            t0 = time.perf_counter()
            peer = detect_peer(image)
            times["rapidocr"].append(time.perf_counter() - t0)
            peer_counts = peer_counts + match_boxes(peer, truth, cfg.iou_threshold)
        if len(samples) < 3:
            samples.append((image, maps, pred, probs, true_mask))
    metrics = {
        "n_docs": n,
        "craft": _pr(craft_counts) | {"words": craft_counts.truth},
        "unet": {"iou": flat_iou.result(4),
                 "box_iou": {f.value: round(float(np.mean(v)), 4) if v else 1.0 for f, v in box_ious.items()},
                 "box_found": {f.value: round(float(np.mean(np.asarray(v) >= 0.5)), 4) if v else 1.0
                               for f, v in box_ious.items()}},
        "timing_ms": {k: round(1000 * float(np.median(v)), 1) for k, v in times.items() if v},
    }
    if capture_iou.docs:
        metrics["unet"]["capture_iou"] = capture_iou.result(4)
        metrics["craft"]["captures"] = _pr(craft_on_captures)
    if detect_peer is not None:
        metrics["rapidocr"] = _pr(peer_counts) | {"docs": n_peer}
        metrics["craft"]["hmean_on_rapidocr_docs"] = _pr(craft_on_peer)["hmean"]
    extras = {"sweep": {t: _pr(c) for t, c in sweep.items()}, "samples": samples}
    return {"metrics": metrics, **extras}


def field_box_ious(probs: np.ndarray, words: list[Quad], true_mask: np.ndarray, scale: float,
                   text: TextConfig = TextConfig()) -> dict:
    """Per field present in ``true_mask``: IoU of the pipeline's field box (the CRAFT words the
    UNET mask selects, merged; 0 when none) with the true field rectangle, in input pixels."""
    matches = match_field_words(probs, words, scale, text.mask_threshold, text.min_coverage)
    out = {}
    for f, c in FIELD_CLASS.items():
        ys, xs = np.nonzero(true_mask == c)
        if not len(ys):
            continue
        truth = Box(xs.min() * scale, ys.min() * scale, (xs.max() + 1) * scale, (ys.max() + 1) * scale)
        out[f] = truth.iou(matches[f].box) if f in matches else 0.0
    return out


def _pr(c: MatchCounts) -> dict[str, float]:
    return {"precision": round(100 * c.precision, 2), "recall": round(100 * c.recall, 2), "hmean": round(100 * c.hmean, 2)}


def log_evaluation(result: dict, cfg: DocEvalConfig, common: DocTrainConfig) -> None:
    """Log metrics, the PR curve and sample overlays to an MLflow run ``evaluate``."""
    import mlflow

    from training.docmodel_plots import craft_sample_figure, pr_figure, unet_sample_figure
    from training.mlflow_utils import flatten

    m = result["metrics"]
    with mlflow_run(common, "evaluate", {"doc_eval": to_mapping(cfg)}):
        mlflow.log_metrics({k: float(v) for k, v in flatten(m).items()})
        sweep = result["sweep"]
        curves = {"craft (region_low sweep)": ([sweep[t]["recall"] for t in sweep], [sweep[t]["precision"] for t in sweep])}
        if "rapidocr" in m:
            curves["rapidocr (default)"] = ([m["rapidocr"]["recall"]], [m["rapidocr"]["precision"]])
        log_figure(pr_figure(curves, "word boxes, IoU 0.5, test split"), "plots/pr_words.png")
        mlflow.log_dict({str(k): v for k, v in sweep.items()}, "pr_sweep.json")
        import cv2

        for j, (image, maps, pred, probs, truth) in enumerate(result["samples"]):
            log_figure(craft_sample_figure(image, maps, pred), f"plots/test_craft_{j}.png")
            small = cv2.resize(image, (maps.shape[1], maps.shape[0]), interpolation=cv2.INTER_AREA)
            log_figure(unet_sample_figure(small, probs, truth), f"plots/test_unet_{j}.png")


def write_metrics(metrics: dict, path: Path) -> None:
    """Write the metrics JSON atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: reads ``doc_eval`` and ``doc_train`` from params, writes the metrics file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--prepared", default="data/prepared")
    parser.add_argument("--weights", default=None, help="weights folder (default: models/weights)")
    parser.add_argument("--metrics", default="data/metrics/docmodels.json")
    args = parser.parse_args(argv)
    setup_logging()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cfg = load_section(args.params, "doc_eval", DocEvalConfig)
    common = load_section(args.params, "doc_train", DocTrainConfig)
    text = load_section(args.params, "document_text", TextConfig)  # the pipeline's mask matching, scored as is
    from training.mlflow_utils import setup_tensorflow

    setup_tensorflow(common)
    result = evaluate(Path(args.prepared), Path(args.weights) if args.weights else None, cfg, common.threads, text)
    write_metrics(result["metrics"], Path(args.metrics))
    log_evaluation(result, cfg, common)
    print(json.dumps(result["metrics"], indent=2))


if __name__ == "__main__":
    main()
