"""Document-model data: generate synthetic documents, then draw CRAFT/UNET targets on the flat renders.

``python -m training.prepare generate`` runs the synthetic generator (DVC stage
``generate``); ``python -m training.prepare targets`` (stage ``prepare``) reads the
manifest and writes, per split, memory-mappable ``.npy`` arrays on a fixed canvas:

* ``{split}_image.npy``  uint8 ``(N, canvas_h, canvas_w, 3)``: the flat document resized so
  its long side is ``long_side`` px, at the top-left of a black canvas;
* ``{split}_maps.npy``   uint8 ``(N, canvas_h/2, canvas_w/2, 2)``: region, affinity x 255;
* ``{split}_mask.npy``   uint8 ``(N, canvas_h/2, canvas_w/2)``: field class per pixel
  (:data:`veid.types.FIELD_CLASS`, 1..4) and, as ``LABEL_OFFSET + class`` (5..8), the
  printed label words of each field ("Surname / Nom", "3 DOB"), for the UNET's auxiliary
  label classes;
* ``{split}_capture.npy`` uint8 like ``image``: the sample's camera capture (perspective,
  blur, glare, JPEG) seen through its known homography on the same canvas, so pixel for
  pixel over the same targets: the pages the pipeline's perspective step produces;
* ``{split}_index.json`` per-sample id, family, side, size on the canvas and word quads
  (canvas pixels) for the detection evaluation.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from training.targets import TargetConfig, char_cells, field_mask, label_words, region_affinity_maps
from veid.config import load_section
from veid.errors import InputError
from veid.logs import setup_logging
from veid.types import FIELD_CLASS, Field

SPLITS = ("train", "val", "test")
#: The two views of a prepared document: its flat render, or its camera capture seen flat.
View = Literal["image", "capture"]
#: Mask value of a field's printed label = LABEL_OFFSET + the field's class (5..8).
LABEL_OFFSET = len(FIELD_CLASS)


@dataclass(frozen=True)
class DocDataConfig:
    """``params.yaml: doc_data``: dataset size and the geometry of the prepared arrays.

    Attributes:
        n: number of synthetic documents to generate (all splits together).
        seed: generator seed.
        long_side: flat documents are resized so that their long side has this many px.
        canvas: ``(width, height)`` of the fixed canvas the resized document is pasted on
            (both multiples of 32).
        targets: Gaussian parameters of the region/affinity targets.
    """

    n: int = 2000
    seed: int = 7
    long_side: int = 768
    canvas: tuple[int, int] = (768, 576)
    targets: TargetConfig = TargetConfig()


@dataclass(frozen=True)
class DocSample:
    """What the document models need from one manifest entry (flat-document coordinates)."""

    id: str
    split: str
    family: str
    side: str
    flat: Path
    mask: Path
    flat_size: tuple[int, int]
    words: tuple[tuple[np.ndarray, tuple[np.ndarray, ...]], ...]  # (word quad, char quads)
    word_fields: tuple[str | None, ...] = ()  # each word's key field (None: other text)
    capture: Path | None = None  # the camera capture
    homography: np.ndarray | None = None  # flat-document px -> capture px


def read_doc_samples(manifest: Path) -> list[DocSample]:
    """Parse the generator's ``manifest.jsonl`` (schema 1) into :class:`DocSample` records.

    Raises:
        InputError: the manifest is missing or an entry lacks a required key.
    """
    if not manifest.is_file():
        raise InputError(f"manifest not found: {manifest}")
    root = manifest.parent
    out = []
    for lineno, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            words = tuple(
                (
                    np.asarray(w["quad_flat"], np.float32).reshape(4, 2),
                    tuple(np.asarray(c["quad_flat"], np.float32).reshape(4, 2) for c in w["chars"]),
                )
                for w in d["words"]
            )
            out.append(
                DocSample(
                    id=str(d["id"]), split=d["split"], family=d["family"], side=d["side"],
                    flat=root / d["flat"], mask=root / d["mask"],
                    flat_size=(int(d["flat_size"][0]), int(d["flat_size"][1])), words=words,
                    word_fields=tuple(w.get("field") for w in d["words"]),
                    capture=root / d["image"] if d.get("image") else None,
                    homography=np.asarray(d["homography"], np.float64).reshape(3, 3) if d.get("homography") else None,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{manifest}:{lineno}: bad manifest entry ({exc!r})") from exc
    return out


@dataclass(frozen=True)
class PreparedDoc:
    """One document on the canvas: image, target maps, field mask and word quads (canvas px)."""

    image: np.ndarray
    maps: np.ndarray
    mask: np.ndarray
    size: tuple[int, int]
    word_quads: list[np.ndarray]
    capture: np.ndarray | None = None


def prepare_doc(sample: DocSample, cfg: DocDataConfig) -> PreparedDoc:
    """Resize one flat document onto the canvas and draw its targets at half resolution."""
    import cv2

    flat = cv2.imread(str(sample.flat), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(sample.mask), cv2.IMREAD_UNCHANGED)
    if flat is None or mask is None:
        raise InputError(f"cannot read {sample.flat} or {sample.mask}")
    if mask.ndim == 3:
        mask = mask[..., 0]
    h, w = flat.shape[:2]
    cw, ch = cfg.canvas
    factor = min(cfg.long_side / max(w, h), cw / w, ch / h)
    nw, nh = round(w * factor), round(h * factor)
    image = np.zeros((ch, cw, 3), np.uint8)
    image[:nh, :nw] = cv2.cvtColor(cv2.resize(flat, (nw, nh), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    half = factor / 2.0
    words = [[c * half for c in char_cells(wq, chars)] for wq, chars in sample.words if chars]
    region, affinity = region_affinity_maps(words, (ch // 2, cw // 2), cfg.targets)
    maps = np.stack([region, affinity], axis=-1)
    maps = np.clip(np.rint(maps * 255.0), 0, 255).astype(np.uint8)
    full_mask = np.zeros((ch // 2, cw // 2), np.uint8)
    mh, mw = (nh + 1) // 2, (nw + 1) // 2
    full_mask[:mh, :mw] = field_mask(mask, (mh, mw))
    draw_label_classes(full_mask, sample, half)
    capture = capture_on_canvas(sample, factor, (nw, nh), (cw, ch))
    return PreparedDoc(image, maps, full_mask, (nw, nh), [q * factor for q, _ in sample.words], capture)


def capture_on_canvas(sample: DocSample, factor: float, size: tuple[int, int], canvas: tuple[int, int]) -> np.ndarray | None:
    """The sample's capture warped through its homography onto the canvas, where the flat
    document lies at ``factor`` x its size (``size`` px; black elsewhere); None without a capture.

    Raises:
        InputError: the capture file cannot be read.
    """
    import cv2

    if sample.capture is None or sample.homography is None:
        return None
    photo = cv2.imread(str(sample.capture), cv2.IMREAD_COLOR)
    if photo is None:
        raise InputError(f"cannot read {sample.capture}")
    to_photo = sample.homography @ np.diag([1.0 / factor, 1.0 / factor, 1.0])  # canvas px -> capture px
    nw, nh = size
    out = np.zeros((canvas[1], canvas[0], 3), np.uint8)
    page = cv2.warpPerspective(photo, to_photo, (nw, nh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)
    out[:nh, :nw] = cv2.cvtColor(page, cv2.COLOR_BGR2RGB)
    return out


def draw_label_classes(mask: np.ndarray, sample: DocSample, scale: float) -> None:
    """Paint each field's printed label words as class ``LABEL_OFFSET + FIELD_CLASS[field]``
    where ``mask`` is still background (``scale``: flat-document px -> mask px)."""
    import cv2

    if len(sample.word_fields) != len(sample.words):
        return
    labels = np.zeros_like(mask)
    for name, idx in label_words([q for q, _ in sample.words], sample.word_fields).items():
        cls = LABEL_OFFSET + FIELD_CLASS[Field(name)]
        for j in idx:
            cv2.fillPoly(labels, [np.round(sample.words[j][0] * scale).astype(np.int32)], int(cls))
    np.copyto(mask, labels, where=(mask == 0) & (labels > 0))


def write_split(samples: Sequence[DocSample], out_dir: Path, split: str, cfg: DocDataConfig) -> int:
    """Prepare every sample of one split into the ``.npy``/``.json`` files; returns the count."""
    from tqdm import tqdm

    cw, ch = cfg.canvas
    n = len(samples)
    tmp = {k: out_dir / f".{split}_{k}.npy.tmp" for k in ("image", "maps", "mask", "capture")}
    arrays = {
        "image": np.lib.format.open_memmap(tmp["image"], "w+", np.uint8, (n, ch, cw, 3)),
        "capture": np.lib.format.open_memmap(tmp["capture"], "w+", np.uint8, (n, ch, cw, 3)),
        "maps": np.lib.format.open_memmap(tmp["maps"], "w+", np.uint8, (n, ch // 2, cw // 2, 2)),
        "mask": np.lib.format.open_memmap(tmp["mask"], "w+", np.uint8, (n, ch // 2, cw // 2)),
    }
    index = []
    for i, s in enumerate(tqdm(samples, desc=f"prepare {split}", unit="doc")):
        doc = prepare_doc(s, cfg)
        arrays["image"][i], arrays["maps"][i], arrays["mask"][i] = doc.image, doc.maps, doc.mask
        arrays["capture"][i] = doc.capture if doc.capture is not None else doc.image
        index.append({
            "id": s.id, "family": s.family, "side": s.side, "size": list(doc.size),
            "words": [np.round(q, 2).tolist() for q in doc.word_quads],
        })
    for k, arr in arrays.items():
        arr.flush()
        del arr
        os.replace(tmp[k], out_dir / f"{split}_{k}.npy")
    tmp_index = out_dir / f".{split}_index.json.tmp"
    tmp_index.write_text(json.dumps({"schema": 1, "canvas": list(cfg.canvas), "long_side": cfg.long_side, "docs": index}), encoding="utf-8")
    os.replace(tmp_index, out_dir / f"{split}_index.json")
    return n


def prepare(manifest: Path, out_dir: Path, cfg: DocDataConfig) -> dict[str, int]:
    """Prepare all splits; returns the number of documents per split."""
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = read_doc_samples(manifest)
    return {split: write_split([s for s in samples if s.split == split], out_dir, split, cfg) for split in SPLITS}


@dataclass(frozen=True)
class PreparedSplit:
    """One prepared split, memory-mapped: arrays as written by :func:`write_split`."""

    images: np.ndarray
    maps: np.ndarray
    masks: np.ndarray
    docs: list[dict]
    long_side: int = 768
    captures: np.ndarray | None = None  # absent from splits prepared before captures were added

    def __len__(self) -> int:
        return len(self.docs)

    def size(self, i: int) -> tuple[int, int]:
        """``(width, height)`` of document ``i`` on the canvas (pixels; the rest is padding)."""
        w, h = self.docs[i]["size"]
        return int(w), int(h)

    def view(self, view: View) -> np.ndarray:
        """The flat renders (``image``) or the captures seen flat (``capture``).

        Raises:
            InputError: ``capture`` asked of a split prepared before captures were added.
        """
        if view == "image":
            return self.images
        if self.captures is None:
            raise InputError("the prepared data has no capture views (re-run the prepare stage)")
        return self.captures

    def word_quads(self, i: int) -> list[np.ndarray]:
        """True word quads of document ``i`` in canvas pixels."""
        return [np.asarray(q, np.float64).reshape(4, 2) for q in self.docs[i]["words"]]


def load_split(prepared: Path, split: str) -> PreparedSplit:
    """Open a prepared split read-only (arrays are memory-mapped, not loaded)."""
    try:
        index = json.loads((prepared / f"{split}_index.json").read_text(encoding="utf-8"))
        arrays = [np.load(prepared / f"{split}_{k}.npy", mmap_mode="r") for k in ("image", "maps", "mask")]
        capture_path = prepared / f"{split}_capture.npy"
        captures = np.load(capture_path, mmap_mode="r") if capture_path.is_file() else None
    except (OSError, ValueError) as exc:
        raise InputError(f"prepared split '{split}' unreadable in {prepared}: {exc}") from exc
    return PreparedSplit(*arrays, docs=index["docs"], long_side=int(index.get("long_side", 768)), captures=captures)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: ``generate`` or ``targets`` (reads ``params.yaml: doc_data``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["generate", "targets"])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--synth", default="data/synth", help="generator output directory")
    parser.add_argument("--out", default="data/prepared", help="prepared arrays (targets step)")
    args = parser.parse_args(argv)
    setup_logging()
    cfg = load_section(args.params, "doc_data", DocDataConfig)
    if args.step == "generate":
        from training.synth import generate

        generate(Path(args.synth), n=cfg.n, seed=cfg.seed)
    else:
        counts = prepare(Path(args.synth) / "manifest.jsonl", Path(args.out), cfg)
        print(json.dumps(counts))


if __name__ == "__main__":
    main()
