"""Benchmark of the document models: CRAFT + word boxes + field UNET per 768-px document image, on 2 cores.

Run: ``.venv/bin/python -m bench.bench_docmodels [--docs N] [--reps N] [--weights DIR]``.
Uses the shipped weights (``models/weights``) and flat synthetic documents resized to a
768-px long side (the prepared test split when ``data/prepared`` exists, else a few freshly
generated ones). Prints p50/p95 per stage and, as the peer measured in the same run,
rapidocr's own text detector (PP-OCR DBNet, onnxruntime, 2 threads) on the same images.
Goal (issue 3): CRAFT + UNET p50 under 250 ms.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def _images(n: int) -> list[np.ndarray]:
    """``n`` flat documents at a 768-px long side (RGB uint8)."""
    from training.prepare import load_split

    prepared = REPO / "data" / "prepared"
    if (prepared / "test_index.json").is_file():
        split = load_split(prepared, "test")
        out = []
        for i in range(min(n, len(split))):
            w, h = split.size(i)
            out.append(np.ascontiguousarray(split.images[i, :h, :w]))
        return out
    import cv2

    from models.craft import resize_long_side
    from training.synth import SynthConfig, generate

    with tempfile.TemporaryDirectory() as tmp:
        manifest = generate(Path(tmp), n=n, seed=11, cfg=SynthConfig(workers=1), progress=False)
        flats = sorted((manifest.parent / "flat").glob("*.png"))
        return [resize_long_side(cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB), 768)[0] for f in flats]


def _pct(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values) * 1000.0
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=12)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from models.boxes import WordBoxConfig, decode_word_boxes
    from models.registry import load_document_models

    models = load_document_models(args.weights)
    images = _images(args.docs)
    # warm-up: first calls build the graphs
    maps = models.craft.predict(images[0])
    models.unet.predict(maps, images[0])
    t_craft, t_boxes, t_unet, t_total, t_peer = [], [], [], [], []
    for _ in range(args.reps):
        for img in images:
            t0 = time.perf_counter()
            maps = models.craft.predict(img)
            t1 = time.perf_counter()
            decode_word_boxes(maps, WordBoxConfig())
            t2 = time.perf_counter()
            models.unet.predict(maps, img)
            t3 = time.perf_counter()
            t_craft.append(t1 - t0)
            t_boxes.append(t2 - t1)
            t_unet.append(t3 - t2)
            t_total.append(t3 - t0)
    if not args.no_peer:
        from training.evaluate_docmodels import rapidocr_detector

        detect = rapidocr_detector(threads=2)
        detect(images[0])
        for _ in range(args.reps):
            for img in images:
                t0 = time.perf_counter()
                detect(img)
                t_peer.append(time.perf_counter() - t0)
    h, w = images[0].shape[:2]
    print(f"document models, {len(images)} flat documents (first {w}x{h} px), {args.reps} reps, 2 threads, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'stage':<34} {'p50 ms':>9} {'p95 ms':>9}")
    rows = [("CRAFT maps", t_craft), ("word boxes (decode)", t_boxes), ("field UNET", t_unet),
            ("CRAFT + boxes + UNET", t_total)]
    if t_peer:
        rows.append(("peer: rapidocr detector", t_peer))
    for name, values in rows:
        p50, p95 = _pct(values)
        print(f"{name:<34} {p50:>9.1f} {p95:>9.1f}")
    if t_peer:
        print(f"ratio VEID total / rapidocr detector (p50): {_pct(t_total)[0] / _pct(t_peer)[0]:.2f}")
    print(f"goal: CRAFT + UNET p50 < 250 ms: {'met' if _pct(t_total)[0] < 250 else 'NOT met'}")


if __name__ == "__main__":
    main()
