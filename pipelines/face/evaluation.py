"""Face-verification evaluation: identity splits, labelled pairs (real photos, document portrait vs selfie), ROC/EER/FAR metrics."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pipelines.face.image_io import load_rgb
from veid.errors import InputError

CALIBRATION = "calibration"
EVALUATION = "evaluation"


@dataclass(frozen=True)
class PairSet:
    """Labelled pairs of face keys (see :func:`make_loader`); ``same[i]`` is the truth for pair ``i``;
    ``person_a``/``person_b`` name the person shown by each side (empty when unknown)."""

    kind: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    same: np.ndarray
    person_a: tuple[str, ...] = ()
    person_b: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.a)


@dataclass(frozen=True)
class ErrorRates:
    """Decision quality at one threshold (distance <= threshold means match)."""

    threshold: float
    far: float
    frr: float
    accuracy: float


@dataclass(frozen=True)
class RocSummary:
    """Threshold-free and at-target figures of one set of scored pairs.

    Attributes:
        eer: equal error rate; ``eer_threshold`` the distance where FAR and FRR meet.
        far_target: the false-accept rate asked for; ``threshold_at_far`` the largest distance
            threshold whose FAR on these pairs stays at or below it; ``frr_at_far`` the FRR there.
        n_genuine, n_impostor: pair counts (FAR resolution is ``1 / n_impostor``).
    """

    eer: float
    eer_threshold: float
    far_target: float
    threshold_at_far: float
    frr_at_far: float
    n_genuine: int
    n_impostor: int


def identity_split(faces_dir: Path) -> dict[str, str]:
    """Map each person of the face set to ``calibration`` or ``evaluation``.

    Uses the generator's own, seed-independent split (``training.synth_identity``): persons with
    two photos go to ``val`` or ``test`` by a hash of their id, single-photo persons to ``train``.
    ``val`` and ``train`` persons calibrate; ``test`` persons evaluate. So generated samples of
    split ``test`` and real photos of ``test`` persons are never seen by calibration.
    """
    from training.synth_identity import load_face_persons

    return {p.person_id: EVALUATION if p.split == "test" else CALIBRATION for p in load_face_persons(faces_dir)}


def person_of(photo_name: str) -> str:
    """``P000197_2.jpg`` -> ``P000197``."""
    return Path(photo_name).stem.rsplit("_", 1)[0]


def photos_of(faces_dir: Path, persons: Iterable[str]) -> list[tuple[str, str]]:
    """``(file, person)`` of every photo of ``persons`` in the face set's manifest, sorted by file."""
    wanted = set(persons)
    with (faces_dir / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        return sorted((r["file"], r["person_id"]) for r in csv.DictReader(fh) if r["person_id"] in wanted)


def real_pairs(faces_dir: Path, persons: Iterable[str]) -> PairSet:
    """Every pair of photos among ``persons``: genuine (same person, two sittings) and impostor."""
    files = [f for f, _ in photos_of(faces_dir, persons)]
    a, b, same = [], [], []
    for i, fa in enumerate(files):
        for fb in files[i + 1:]:
            a.append(f"real:{fa}")
            b.append(f"real:{fb}")
            same.append(person_of(fa) == person_of(fb))
    return PairSet("real_all_pairs", tuple(a), tuple(b), np.asarray(same, bool),
                   tuple(person_of(k[5:]) for k in a), tuple(person_of(k[5:]) for k in b))


def pairs_csv(faces_dir: Path, persons: Iterable[str] | None = None) -> PairSet:
    """The face set's ``pairs.csv`` (optionally only pairs whose both persons are in ``persons``)."""
    wanted = set(persons) if persons is not None else None
    a, b, same = [], [], []
    with (faces_dir / "pairs.csv").open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if wanted is not None and not {person_of(r["file_a"]), person_of(r["file_b"])} <= wanted:
                continue
            a.append(f"real:{r['file_a']}")
            b.append(f"real:{r['file_b']}")
            same.append(r["same"] == "1")
    return PairSet("real_pairs_csv", tuple(a), tuple(b), np.asarray(same, bool),
                   tuple(person_of(k[5:]) for k in a), tuple(person_of(k[5:]) for k in b))


def portrait_selfie_pairs(samples: Iterable, splits: set[str], portrait: str = "flat",
                          impostor_portrait_splits: set[str] | None = None) -> PairSet:
    """Document portrait versus selfie pairs from generated samples of ``splits``.

    Every portrait is paired with every selfie. Genuine: both show the same person in two different
    photos (the generator's selfie is the person's other photo). Impostor: different persons (this
    includes ``swapped_portrait`` negatives). A portrait and a selfie cut from the same source photo
    are left out: that is a photographed card, not a genuine second capture. Truth comes from
    ``portrait_source``/``selfie_source``.

    Args:
        samples: ``training.synth_manifest.Sample`` records.
        splits: generator splits to use (``{"val"}`` for calibration, ``{"test"}`` for evaluation).
        portrait: ``"flat"`` (crop of the flat render) or ``"capture"`` (the portrait quad
            rectified out of the captured photo).
        impostor_portrait_splits: further splits whose portraits join as impostors only (their
            persons have no second photo, so no selfie); e.g. ``{"train"}`` in calibration.
    """
    extra = impostor_portrait_splits or set()
    portraits = [s for s in samples if s.split in splits | extra and s.portrait_box_flat is not None
                 and s.portrait_source is not None]
    selfies = [s for s in samples if s.split in splits and s.selfie is not None and s.portrait_box_flat is not None]
    a, b, same, pa, pb = [], [], [], [], []
    for s in portraits:
        ps = person_of(s.portrait_source)
        for t in selfies:
            ts = person_of(t.selfie_source)
            if ps == ts and (s.split not in splits or s.portrait_source == t.selfie_source):
                continue
            a.append(f"{portrait}:{s.id}")
            b.append(f"selfie:{t.id}")
            same.append(ps == ts)
            pa.append(ps)
            pb.append(ts)
    return PairSet(f"portrait_{portrait}_vs_selfie", tuple(a), tuple(b), np.asarray(same, bool), tuple(pa), tuple(pb))


def make_loader(faces_dir: Path, samples: Iterable = ()) -> Callable[[str], np.ndarray]:
    """A function from face key to RGB image: ``real:<file>``, ``flat:<id>``, ``capture:<id>``, ``selfie:<id>``."""
    by_id = {s.id: s for s in samples}

    def load(key: str) -> np.ndarray:
        kind, _, ref = key.partition(":")
        if kind == "real":
            return load_rgb(faces_dir / ref)
        s = by_id[ref]
        if kind == "selfie":
            return load_rgb(s.selfie)
        if kind == "flat":
            return crop_portrait_flat(load_rgb(s.flat), s.portrait_box_flat)
        if kind == "capture":
            return rectify_portrait(load_rgb(s.image), s.portrait_quad.to_array(), s.portrait_box_flat)
        raise InputError(f"unknown face key kind {kind!r}")

    return load


def crop_portrait_flat(flat: np.ndarray, box, margin: float = 0.0) -> np.ndarray:
    """Cut the portrait box (pixels on the flat document) out of the flat render."""
    h, w = flat.shape[:2]
    b = box.expand(margin * box.width, margin * box.height).clip(w, h)
    return np.ascontiguousarray(flat[int(b.y0):int(np.ceil(b.y1)), int(b.x0):int(np.ceil(b.x1))])


def rectify_portrait(image: np.ndarray, quad: np.ndarray, box) -> np.ndarray:
    """Warp the portrait quad of a captured photo to an upright rectangle of the flat box's size."""
    w, h = max(int(round(box.width)), 32), max(int(round(box.height)), 32)
    dst = np.asarray([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), dst)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def pair_distances(pairs: PairSet, vectors: dict[str, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray, int]:
    """Distances of the pairs whose two faces were both embedded, their truth, and how many were dropped."""
    d, same, _, dropped = pair_distances_kept(pairs, vectors)
    return d, same, dropped


def pair_distances_kept(pairs: PairSet, vectors: dict[str, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Like :func:`pair_distances`, plus the indices of the kept pairs (to select ``person_a``/``person_b``)."""
    names = sorted(k for k, v in vectors.items() if v is not None)
    row = {k: i for i, k in enumerate(names)}
    table = np.stack([vectors[k] for k in names]) if names else np.zeros((0, 128))
    ia = np.asarray([row.get(k, -1) for k in pairs.a], dtype=np.int64)
    ib = np.asarray([row.get(k, -1) for k in pairs.b], dtype=np.int64)
    keep = np.flatnonzero((ia >= 0) & (ib >= 0))
    d = np.empty(keep.size)
    for lo in range(0, keep.size, 65536):  # bounded memory on large pair sets
        sel = keep[lo:lo + 65536]
        d[lo:lo + sel.size] = np.linalg.norm(table[ia[sel]] - table[ib[sel]], axis=1)
    return d, pairs.same[keep], keep, len(pairs) - int(keep.size)


def rates_at(distances: np.ndarray, same: np.ndarray, threshold: float) -> ErrorRates:
    """FAR, FRR and accuracy when ``distance <= threshold`` means match."""
    match = distances <= threshold
    gen, imp = same.astype(bool), ~same.astype(bool)
    far = float(match[imp].mean()) if imp.any() else float("nan")
    frr = float((~match[gen]).mean()) if gen.any() else float("nan")
    return ErrorRates(float(threshold), far, frr, float((match == same).mean()))


def threshold_at_far(distances: np.ndarray, same: np.ndarray, far_target: float) -> float:
    """Largest threshold whose FAR on these pairs is at most ``far_target``.

    With ``n`` impostor distances sorted ascending, ``k = floor(far_target * n)`` of them may be
    accepted: the threshold sits halfway between the ``k``-th and ``(k+1)``-th smallest.
    """
    imp = np.sort(distances[~same.astype(bool)])
    if imp.size == 0:
        raise InputError("no impostor pairs: cannot set a threshold at a false-accept rate")
    k = int(np.floor(far_target * imp.size + 1e-9))
    upper = imp[k] if k < imp.size else imp[-1] + 1.0
    lower = imp[k - 1] if k > 0 else max(0.0, upper - 0.02)
    return float((lower + upper) / 2.0)


def roc_curve(distances: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(thresholds, far, frr)`` at every distinct distance (ascending)."""
    thr = np.unique(distances)
    gen, imp = np.sort(distances[same]), np.sort(distances[~same])
    far = np.searchsorted(imp, thr, side="right") / max(imp.size, 1)
    frr = 1.0 - np.searchsorted(gen, thr, side="right") / max(gen.size, 1)
    return thr, far, frr


def equal_error_rate(distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """``(eer, threshold)``: where FAR and FRR cross (mean of the two at the closest threshold)."""
    thr, far, frr = roc_curve(distances, same.astype(bool))
    i = int(np.argmin(np.abs(far - frr)))
    return float((far[i] + frr[i]) / 2.0), float(thr[i])


def frr_interval(rejected: np.ndarray, persons: list[str], reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95 % interval of a false-reject rate over genuine pairs, resampling *persons* (with replacement):
    the pairs of one person are not independent (one hard person can hold a third of the rejects)."""
    if not len(rejected):
        return float("nan"), float("nan")
    ids = {p: k for k, p in enumerate(sorted(set(persons)))}
    who = np.array([ids[p] for p in persons])
    pairs_of = np.bincount(who, minlength=len(ids)).astype(float)
    rejects_of = np.bincount(who, weights=rejected.astype(float), minlength=len(ids))
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(ids), np.full(len(ids), 1.0 / len(ids)), size=reps)  # persons drawn per replicate
    rates = (counts @ rejects_of) / np.maximum(counts @ pairs_of, 1.0)
    lo, hi = np.percentile(rates, [2.5, 97.5])
    return float(lo), float(hi)


def far_interval(accepted: np.ndarray, person_a: list[str], person_b: list[str], reps: int = 2000,
                 seed: int = 0) -> tuple[float, float]:
    """95 % interval of a false-accept rate over impostor pairs, resampling *persons* (with replacement).

    A pair weighs the product of its two persons' draw counts: a few look-alike person pairs hold
    most false accepts at 0.1 %, so pairs are far from independent and a binomial interval would be
    much too narrow.
    """
    if not len(accepted):
        return float("nan"), float("nan")
    persons, codes = np.unique(np.concatenate([np.asarray(person_a), np.asarray(person_b)]), return_inverse=True)
    # sum over each person pair once, then reweight the person pairs per replicate
    pair_code = codes[:len(person_a)] * persons.size + codes[len(person_a):]
    uniq, inv = np.unique(pair_code, return_inverse=True)
    n_pairs = np.bincount(inv).astype(float)
    n_acc = np.bincount(inv, weights=np.asarray(accepted, float))
    ua, ub = uniq // persons.size, uniq % persons.size
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(persons.size, np.full(persons.size, 1.0 / persons.size), size=reps)
    w = draws[:, ua] * draws[:, ub]
    rates = (w @ n_acc) / np.maximum(w @ n_pairs, 1.0)
    lo, hi = np.percentile(rates, [2.5, 97.5])
    return float(lo), float(hi)


def summarize(distances: np.ndarray, same: np.ndarray, far_target: float) -> RocSummary:
    """EER and FRR at the FAR target, both measured on these pairs alone."""
    same = same.astype(bool)
    eer, eer_thr = equal_error_rate(distances, same)
    thr = threshold_at_far(distances, same, far_target)
    return RocSummary(eer, eer_thr, far_target, thr, rates_at(distances, same, thr).frr,
                      int(same.sum()), int((~same).sum()))


@dataclass(frozen=True)
class EmbeddedFaces:
    """Embeddings by face key (``None`` when no face was found), quality pass flags, timings (seconds),
    the aligned chips of the keys asked for (``keep_chips``), which faces are grey, and grey-converted
    embeddings of the colour faces that meet a grey one in some pair (``face.embedder.grey_match``)."""

    vectors: dict[str, np.ndarray | None]
    quality_passed: dict[str, bool]
    detect_s: tuple[float, ...]
    embed_s: tuple[float, ...]
    chips: dict[str, np.ndarray] = field(default_factory=dict)
    grey: dict[str, bool] = field(default_factory=dict)
    grey_vectors: dict[str, np.ndarray] = field(default_factory=dict)

    def pair_distances_kept(self, pairs: PairSet) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Like the module's :func:`pair_distances_kept`, deciding each pair as the verifier does: a grey
        face against a colour one is compared with the colour face's grey embedding when there is one."""
        return self.pair_scores_kept(pairs)

    def pair_scores_kept(self, pairs: PairSet, normalizer=None,
                         cohort_persons: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Like :meth:`pair_distances_kept`, but the score the verifier decides on: the distance
        normalised by ``normalizer`` (a :class:`pipelines.face.cohort.CohortNormalizer`; ``None``:
        the raw distance). ``cohort_persons`` (the person of each cohort row) leaves the pair's own
        persons out of the cohort, as when the cohort was drawn from the same persons."""
        d, same, keep, dropped = pair_distances_kept(pairs, self.vectors)
        if normalizer is None and not self.grey_vectors:
            return d, same, keep, dropped
        for j, i in enumerate(keep):
            va, vb, in_grey = self._pair_vectors(pairs.a[i], pairs.b[i])
            if in_grey:
                d[j] = float(np.linalg.norm(va - vb))
            if normalizer is not None:
                exclude = None
                if cohort_persons is not None and pairs.person_a:
                    exclude = (cohort_persons == pairs.person_a[i]) | (cohort_persons == pairs.person_b[i])
                d[j] = normalizer.score(d[j], va, vb, in_grey, exclude)
        return d, same, keep, dropped

    def _pair_vectors(self, a: str, b: str) -> tuple[np.ndarray, np.ndarray, bool]:
        """The two embeddings the verifier compares for faces ``a`` and ``b``, and whether in grey."""
        ga, gb = self.grey.get(a, False), self.grey.get(b, False)
        if ga != gb:
            colour = b if ga else a
            if colour in self.grey_vectors:
                ca = self.grey_vectors[a] if a == colour else self.vectors[a]
                cb = self.grey_vectors[b] if b == colour else self.vectors[b]
                return ca, cb, True
        return self.vectors[a], self.vectors[b], False

    def save(self, path: Path) -> None:
        """Write the embeddings as ``.npz`` (keys in ``keys``, rows of NaN for missing faces), atomically."""
        keys = sorted(self.vectors)
        arr = np.stack([self.vectors[k] if self.vectors[k] is not None else np.full(128, np.nan) for k in keys]) \
            if keys else np.zeros((0, 128))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, keys=np.asarray(keys), vectors=arr,
                            quality=np.asarray([self.quality_passed.get(k, False) for k in keys]))
        tmp.replace(path)


def embed_keys(verifier, keys: Iterable[str], loader: Callable[[str], np.ndarray], progress: bool = True,
               keep_chips: Iterable[str] = (), pairs: Iterable[PairSet] = ()) -> EmbeddedFaces:
    """Detect, align, embed and quality-check each face key with ``verifier``'s stages.

    A face key whose image holds no face maps to ``None`` (a failure to acquire). The aligned chips
    of ``keep_chips`` are kept (so a caller comparing chips needs no second detection). With
    ``face.embedder.grey_match``, every colour face that meets a grey face in one of ``pairs`` is
    also embedded in grey, so that :meth:`EmbeddedFaces.pair_distances_kept` decides like the verifier.
    """
    import time

    from tqdm import tqdm

    vectors: dict[str, np.ndarray | None] = {}
    quality: dict[str, bool] = {}
    chips: dict[str, np.ndarray] = {}
    grey: dict[str, bool] = {}
    aligned_by_key = {}
    wanted = set(keep_chips)
    t_det, t_emb = [], []
    for key in tqdm(sorted(set(keys)), desc="embed faces", unit="face", disable=not progress):
        rgb = loader(key)
        t0 = time.perf_counter()
        faces = verifier.detect(rgb)
        t_det.append(time.perf_counter() - t0)
        if not faces:
            vectors[key], quality[key] = None, False
            continue
        t0 = time.perf_counter()
        aligned = verifier.align(rgb, faces[0])
        emb = verifier.embed(aligned)
        t_emb.append(time.perf_counter() - t0)
        vectors[key] = emb.vector
        quality[key] = verifier.assess(rgb, faces, aligned).passed
        grey[key] = verifier.embed.is_grey(aligned)
        aligned_by_key[key] = aligned
        if key in wanted:
            chips[key] = aligned.chip
    grey_vectors: dict[str, np.ndarray] = {}
    if verifier.cfg.embedder.grey_match:
        need = {k for ps in pairs for a, b in zip(ps.a, ps.b) if a in grey and b in grey and grey[a] != grey[b]
                for k in (a, b) if not grey[k]}
        for key in tqdm(sorted(need), desc="embed in grey", unit="face", disable=not progress):
            grey_vectors[key] = verifier.embed.embed_grey(aligned_by_key[key]).vector
    return EmbeddedFaces(vectors, quality, tuple(t_det), tuple(t_emb), chips, grey, grey_vectors)
