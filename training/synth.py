"""Synthetic identity generator: documents with full ground truth, selfies, scopes, identity-disjoint splits.

Public API (see ``training/SYNTH_SCHEMA.md`` for the output format)::

    from training.synth import SynthConfig, generate
    manifest = generate(Path("data/synth"), n=1000, seed=1)
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from training import synth_identity as ident
from training.synth_capture import CaptureConfig
from training.synth_text import FONT_FILES
from training.synth_sample import FAMILIES, NEGATIVES, SamplePlan, applicable_negatives, render_sample
from veid.config import to_mapping
from veid.errors import InputError
from veid.logs import get_logger

_LOG = get_logger(__name__)
REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT_ENTRIES = ("manifest.jsonl", "scopes.jsonl", "config.json", "images", "flat", "masks", "selfies")


@dataclass(frozen=True)
class SynthConfig:
    """Generator settings (``params.yaml`` section ``synth``).

    Attributes:
        faces_dir: face set folder (``manifest.csv`` + photos); relative paths are taken from the repository root.
        fonts_dir: the system font root holding ``truetype/{dejavu,liberation,freefont}`` and ``opentype/ocr-b``.
        workers: processes; the output does not depend on it (every sample has its own seed).
        negative_rate: fraction of samples that carry one labelled negative.
        negatives: negative kinds that may be drawn.
        family_weights: relative frequency of TD1 ID cards, TD3 passports and driver licences.
        back_fraction: fraction of driver-licence samples that show the back (PDF417).
        split_weights: relative frequency of train, val and test samples.
        val_fraction: fraction of two-photo face persons assigned to val (the rest go to test).
        reference_date: ISO date taken as "today" for validity and expiry (fixed for determinism).
        selfie_jpeg_quality: JPEG quality of the selfies.
        png_compression: zlib level of the flat and mask PNGs (0-9).
        capture: camera capture simulation ranges.
    """

    faces_dir: str = "../shared/data/faces"
    fonts_dir: str = "/usr/share/fonts"
    workers: int = 2
    negative_rate: float = 0.3
    negatives: tuple[str, ...] = NEGATIVES
    family_weights: tuple[float, float, float] = (0.35, 0.3, 0.35)
    back_fraction: float = 0.5
    split_weights: tuple[float, float, float] = (0.7, 0.15, 0.15)
    val_fraction: float = 0.5
    reference_date: str = "2026-06-01"
    selfie_jpeg_quality: int = 90
    png_compression: int = 1
    capture: CaptureConfig = field(default_factory=CaptureConfig)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.negatives) - set(NEGATIVES))
        if unknown:
            raise ValueError(f"unknown negative kinds {unknown}; allowed: {list(NEGATIVES)}")
        if not 0.0 <= self.negative_rate <= 1.0:
            raise ValueError("negative_rate must lie in [0, 1]")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if min(self.family_weights) < 0 or sum(self.family_weights) <= 0:
            raise ValueError("family_weights must be non-negative with a positive sum")
        if min(self.split_weights) < 0 or sum(self.split_weights) <= 0:
            raise ValueError("split_weights must be non-negative with a positive sum")

    def faces_path(self) -> Path:
        path = Path(self.faces_dir)
        return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def make_plan(n: int, seed: int, cfg: SynthConfig) -> list[SamplePlan]:
    """Draw every sample's split, person, family, side and negative from one seeded generator, in order.

    The first ``k`` plans for a seed are the same whatever ``n`` is.
    """
    faces = ident.load_face_persons(cfg.faces_path(), cfg.val_fraction)
    persons = [ident.make_person(i, face, seed) for i, face in enumerate(faces)]
    by_split = {s: [p for p in persons if p.face.split == s] for s in ident.SPLITS}
    weights = np.array([w if by_split[s] else 0.0 for s, w in zip(ident.SPLITS, cfg.split_weights)], float)
    if weights.sum() <= 0:
        raise InputError("no face persons available for any split with a positive weight")
    rng = np.random.default_rng([seed, 3])
    fam_p = np.asarray(cfg.family_weights, float) / sum(cfg.family_weights)
    plans = []
    for i in range(n):
        split = ident.SPLITS[int(rng.choice(3, p=weights / weights.sum()))]
        pool = by_split[split]
        person = pool[int(rng.integers(len(pool)))]
        family = FAMILIES[int(rng.choice(3, p=fam_p))]
        side = "back" if family == "driver_license_aamva" and rng.random() < cfg.back_fraction else "front"
        negative, swap = None, None
        allowed = [k for k in applicable_negatives(family, side) if k in cfg.negatives]
        if len(pool) < 2 and "swapped_portrait" in allowed:
            allowed.remove("swapped_portrait")
        draw_neg = rng.random() < cfg.negative_rate
        choice = int(rng.integers(max(len(allowed), 1)))
        if draw_neg and allowed:
            negative = allowed[choice]
            if negative == "swapped_portrait":
                others = [p for p in pool if p is not person]
                swap = others[int(rng.integers(len(others)))].face
        plans.append(SamplePlan(i, split, person, family, side, negative, swap))
    return plans


def _prepare(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output path exists and is not a directory: {out_dir}")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not force:
            raise InputError(f"output directory is not empty: {out_dir} (use force to overwrite)")
        for name in OUTPUT_ENTRIES:
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    for sub in ("images", "flat", "masks", "selfies"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _dumps(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core: no nested OpenCV threads


def _job(args: tuple[SamplePlan, int, SynthConfig, Path]) -> dict:
    plan, seed, cfg, out_dir = args
    return render_sample(plan, seed, cfg, out_dir)


def generate(out_dir: Path, n: int, seed: int, cfg: SynthConfig | None = None, *, force: bool = False,
             progress: bool = True) -> Path:
    """Generate ``n`` samples into ``out_dir`` deterministically from ``seed``; return the manifest path.

    Args:
        out_dir: output folder; created if missing; must be empty unless ``force``.
        n: number of samples (documents sides), at least 1.
        seed: generator seed; the same seed gives byte-identical files.
        cfg: settings (default: :class:`SynthConfig` defaults).
        force: overwrite the generator's own outputs in a non-empty ``out_dir``.
        progress: show a tqdm progress bar.

    Raises:
        InputError: ``n < 1``, ``out_dir`` is a file or not empty, or the face set is missing.
    """
    cfg = cfg or SynthConfig()
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"n must be a positive integer, got {n!r}")
    missing = sorted({f for files in FONT_FILES.values() for f in files if not (Path(cfg.fonts_dir) / f).is_file()})
    if missing:
        raise InputError(f"fonts missing under {cfg.fonts_dir}: {', '.join(missing)} (Debian packages fonts-dejavu, "
                         "fonts-liberation, fonts-freefont-ttf, fonts-ocr-b)")
    out_dir = Path(out_dir)
    plans = make_plan(n, seed, cfg)
    _prepare(out_dir, force)
    jobs = [(p, seed, cfg, out_dir) for p in plans]
    bar = tqdm(total=n, desc="synth", unit="doc", disable=not progress)
    records = []
    if cfg.workers == 1 or n < 4:
        for job in jobs:
            records.append(_job(job))
            bar.update()
    else:
        ctx = multiprocessing.get_context("spawn")  # fork can deadlock on locks held by OpenCV threads
        with ctx.Pool(min(cfg.workers, n), initializer=_init_worker) as pool:
            for rec in pool.imap(_job, jobs, chunksize=2):
                records.append(rec)
                bar.update()
    bar.close()
    manifest = out_dir / "manifest.jsonl"
    _write_text(manifest, "".join(_dumps(r) + "\n" for r in records))
    settings = to_mapping(cfg)
    del settings["workers"]  # does not change the output
    _write_text(out_dir / "config.json", _dumps({"n": n, "seed": seed, "config": settings}) + "\n")
    _write_scopes(out_dir, records, seed)
    return manifest


def _write_scopes(out_dir: Path, records: list[dict], seed: int) -> None:
    splits = {r["identity"]: r["split"] for r in records}
    identities = sorted(splits)
    try:
        module = importlib.import_module("training.synth_scopes")
    except ModuleNotFoundError as exc:
        if exc.name != "training.synth_scopes":
            raise
        _LOG.warning("training.synth_scopes is not available yet: scopes.jsonl not written")
        return
    rows = module.scope_histories(identities, [splits[i] for i in identities], seed)
    _write_text(out_dir / "scopes.jsonl", "".join(_dumps(r) + "\n" for r in rows))
