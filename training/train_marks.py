"""DVC stage ``train_marks``: the diacritic mark classifier of ``pipelines/document/marks.py``.

``python -m training.train_marks --params params.yaml``

Two sources of examples: words of random letters, a share of them carrying marks (every class equally
often), drawn in the generator's fonts on tinted paper (some with a small caption above), shrunk to the
letter heights of captured name lines, blurred, noised and JPEG-compressed as the capture simulation does;
and the name fields of the ``generate`` stage's training-split captures, cut out along their known boxes
(real capture degradations, and the marks European names carry). The zone above each letter, found
exactly as the pipeline finds it (``letter_features``), is an example labelled with the mark printed
there. A small CNN is fitted in Keras and exported as plain weights, which the pipeline runs in NumPy.

Metrics (``data/metrics/marks.json``): accuracy and the recall of marked letters on held-out drawn words
and on held-out captures (documents the fit never saw), the share of letters read wrongly with at least
``document_marks.min_probability``, accuracy on drawn words in a font family the model never saw (a
second model trained without it: how far the marks generalise beyond the generator's fonts), and the
confusion matrices.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from models.registry import write_record
from pipelines.document.marks import (
    MARKS, MarkConfig, MarkModel, compose, letter_features, prepare, split_mark,
)
from pipelines.document.numpy_cnn import ZoneClassifier
from training.mlflow_utils import git_commit
from training.synth_text import FONT_FILES, load_font
from veid.config import load_section, to_mapping
from veid.errors import InputError
from veid.logs import get_logger

log = get_logger(__name__)

#: The font family held out for the unseen-font accuracy (GNU FreeFont: FreeSans, FreeSerif, FreeMono).
HELD_OUT_FAMILY = "freefont"


@dataclass(frozen=True)
class MarkTrainConfig:
    """``params.yaml`` section ``marks_train``.

    Attributes:
        words: training words drawn.
        eval_words: held-out words drawn (another seed).
        seed: random seed.
        marked_share: share of letters drawn with a mark.
        lower_share: share of words in title case (the rest all capitals).
        caption_share: share of words with a small caption line above, as field crops often show.
        font_size: drawing size range, pixels, before shrinking.
        cap_height: letter height range, pixels, after shrinking (captured name lines: about 10-24).
        blur_max: Gaussian sigma range top, pixels at the shrunk size.
        noise_max: Gaussian noise sigma top, grey levels.
        jpeg: JPEG quality range.
        hidden: units of the CNN's dense layer.
        epochs: most training epochs (early stopping on 10 % of the examples).
        capture_weight: loss weight of an example from a generated capture (drawn words weigh 1).
        synth_dir: the generated documents of the ``generate`` stage; the name fields of its training
            split's captures are examples too (no person of a held-out split is seen).
        workers: processes drawing words.
        fonts_dir: where the fonts are (``synth.fonts_dir``).
        model_out, metrics_out: outputs.
        tracking_uri, experiment: MLflow (``MLFLOW_TRACKING_URI`` overrides).
    """

    words: int = 15000
    eval_words: int = 2000
    seed: int = 11
    marked_share: float = 0.4
    lower_share: float = 0.25
    caption_share: float = 0.5
    font_size: tuple[int, int] = (26, 44)
    cap_height: tuple[float, float] = (9.0, 22.0)
    blur_max: float = 1.6
    noise_max: float = 6.0
    jpeg: tuple[int, int] = (55, 95)
    hidden: int = 64
    epochs: int = 30
    capture_weight: float = 3.0
    synth_dir: str = "data/synth"
    workers: int = 2
    fonts_dir: str = "/usr/share/fonts"
    model_out: str = "models/weights/marks.npz"
    metrics_out: str = "data/metrics/marks.json"
    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "veid-document-models"


@dataclass
class Examples:
    """Feature rows, their mark labels (indices into :data:`MARKS`) and how many words were skipped."""

    x: list = field(default_factory=list)
    y: list = field(default_factory=list)
    skipped: int = 0
    words: int = 0


def _fonts(fonts_dir: str, held_out: bool | None) -> list[str]:
    """Font files of the roles printed values use; ``held_out`` True: only the held-out family, False:
    all but it, None: all."""
    files = sorted({f for role in ("sans", "sans_bold", "serif", "serif_bold", "mrz") for f in FONT_FILES[role]})
    if held_out is not None:
        files = [f for f in files if (HELD_OUT_FAMILY in f) == held_out]
    return [str(Path(fonts_dir) / f) for f in files if (Path(fonts_dir) / f).is_file()]


def _alphabet() -> dict[str, list[str]]:
    """Per mark, the letters (upper case) that exist with it."""
    out: dict[str, list[str]] = {}
    for m in MARKS:
        letters = [compose(b, m) for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if m != "dot" or b not in "IJ"]
        out[m] = [c for c in letters if c is not None]
    return out


_ALPHABET = _alphabet()


def pick_above(rng: np.random.Generator, marked_share: float) -> str:
    """One letter (upper case) of a drawn word: with ``marked_share`` a mark above it, every mark equally
    often."""
    if rng.random() < marked_share:
        mark = str(rng.choice([m for m in MARKS if m != "none" and _ALPHABET[m]]))
    else:
        mark = "none"
    return str(rng.choice(_ALPHABET[mark]))


def label_above(c: str) -> str | None:
    """The class of a drawn or printed character for the mark classifier (``None``: not an example)."""
    return split_mark(c)[1]


@dataclass(frozen=True)
class Recipe:
    """What one letter classifier is trained on: its classes, its features (``(grey crop, text) -> rows``),
    a character's class (``None``: no example), how a drawn word's letters are picked, which characters the
    drawing fonts must have, and the model class the weights are exported to."""

    classes: tuple[str, ...]
    features: Callable[[np.ndarray, str], list]
    label: Callable[[str], str | None]
    pick: Callable[[np.random.Generator, float], str]
    model: type[ZoneClassifier]
    needs_glyphs: str = ""


#: The mark classifier above letters (``marks.py``).
ABOVE = Recipe(MARKS, letter_features, label_above, pick_above, MarkModel)


def draw_word(rng: np.random.Generator, cfg: MarkTrainConfig, fonts: list[str],
              pick: Callable[[np.random.Generator, float], str] = pick_above) -> tuple[np.ndarray, str]:
    """One captured-looking name crop (RGB) and the word drawn on it, its letters from ``pick`` (drawn again,
    with other letters and font, when the font drew nothing)."""
    while True:
        found = _draw_word(rng, cfg, fonts, pick)
        if found is not None:
            return found


def _draw_word(rng: np.random.Generator, cfg: MarkTrainConfig, fonts: list[str],
               pick: Callable[[np.random.Generator, float], str]) -> tuple[np.ndarray, str] | None:
    n = int(rng.integers(3, 10))
    word = "".join(pick(rng, cfg.marked_share) for _ in range(n))
    if rng.random() < cfg.lower_share:
        word = word[0] + word[1:].lower()
    font = load_font(str(rng.choice(fonts)), int(rng.integers(*cfg.font_size)))
    x0, y0, x1, y1 = font.getbbox(word, anchor="ls")
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    pad = font.size
    w, h = int(x1 - x0 + 2 * pad), int(y1 - y0 + 2 * pad)
    paper = rng.uniform(175, 255, 3)
    tint = cv2.resize(rng.normal(0, 12, (3, 4, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    img = Image.fromarray(np.clip(paper + tint, 0, 255).astype(np.uint8))
    ink = tuple(int(v) for v in rng.uniform(0, 90, 3))
    ImageDraw.Draw(img).text((pad - x0, pad - y0), word, font=font, fill=ink, anchor="ls")
    if rng.random() < cfg.caption_share:  # the caption printed above a value often reaches into its crop
        small_font = load_font(str(rng.choice(fonts)), max(8, int(font.size * rng.uniform(0.35, 0.55))))
        caption = "".join(rng.choice(list("ABCDEFGHIJKLMNOPRSTUVWYZ /"), int(rng.integers(4, 14))))
        gap = font.size * rng.uniform(0.25, 0.7)
        ImageDraw.Draw(img).text((pad - x0 + rng.uniform(-5, 10), pad - gap), caption, font=small_font,
                                 fill=tuple(int(v) for v in rng.uniform(40, 150, 3)), anchor="ls")
    arr = np.asarray(img)
    cap = font.getbbox("H", anchor="ls")
    cap_h = cap[3] - cap[1]
    s = float(rng.uniform(*cfg.cap_height)) / max(cap_h, 1)
    # crop around the ink as a field box does: some paper above and below, a little at the ends
    th = (y1 - y0)
    top, bottom = rng.uniform(0.1, 0.35, 2) * th
    side = rng.uniform(0.05, 0.3, 2) * th
    crop = arr[int(pad - top):int(pad + th + bottom), int(pad - side[0]):int(pad + x1 - x0 + side[1])]
    small = cv2.resize(crop, (max(4, round(crop.shape[1] * s)), max(4, round(crop.shape[0] * s))),
                       interpolation=cv2.INTER_AREA)
    sigma = rng.uniform(0, cfg.blur_max)
    if sigma > 0.3:
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    small = np.clip(small + rng.normal(0, rng.uniform(0, cfg.noise_max), small.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*cfg.jpeg))])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), word


def _add_letters(into: Examples, feats: list[np.ndarray | None], text: str, recipe: Recipe = ABOVE) -> None:
    """Append each letter of ``text`` whose zone could be read, labelled with the mark printed on it."""
    for f, c in zip(feats, text):
        mark = recipe.label(c)
        if f is not None and mark is not None:
            into.x.append(f)
            into.y.append(recipe.classes.index(mark))


def _with_glyphs(fonts: list[str], chars: str) -> list[str]:
    """The fonts that draw every character of ``chars`` (OCR-B, the MRZ font, has no Ł or Ç)."""
    return [f for f in fonts if not chars or set(map(ord, chars)) <= _code_points(f)]


@functools.lru_cache(maxsize=None)
def _code_points(font: str) -> frozenset[int]:
    """The characters a font file maps to glyphs."""
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(font, fontNumber=0).getBestCmap())


def _examples(job: tuple) -> Examples:
    """Draw ``count`` words with ``seed`` and turn their letters into examples (one process). ``job``:
    ``(cfg, seed, count, held_out, target)``, then optionally the :class:`Recipe` (default :data:`ABOVE`)."""
    cfg, seed, count, held_out, target = job[:5]
    recipe = job[5] if len(job) > 5 else ABOVE
    rng = np.random.default_rng(seed)
    fonts = _with_glyphs(_fonts(cfg.fonts_dir, held_out), recipe.needs_glyphs)
    out = Examples()
    for _ in range(count):
        crop, word = draw_word(rng, cfg, fonts, recipe.pick)
        out.words += 1
        feats = recipe.features(prepare(crop, target, recipe.model.PAPER_BORDER), word)
        if all(f is None for f in feats):
            out.skipped += 1
            continue
        _add_letters(out, feats, word, recipe)
    return out


def field_crops(record: dict, image: np.ndarray, rng: np.random.Generator) -> list[tuple[np.ndarray, str]]:
    """The name fields of one generated capture, cut out upright as the pipeline's warped page shows them:
    the field's flat-document box, grown by a random margin (as field boxes are), mapped into the photo by the
    sample's homography and warped back to a rectangle at the photo's scale. Each with its printed text."""
    hom = np.asarray(record["homography"], np.float64)
    doc_w = np.linalg.norm(np.subtract(record["document_quad"][1], record["document_quad"][0]))
    scale = doc_w / record["flat_size"][0]
    out = []
    for name in ("first_name", "last_name"):
        f = record["fields"].get(name)
        if not f or not f.get("text") or "quad_flat" not in f:
            continue
        (x0, y0), (x1, y1) = np.min(f["quad_flat"], axis=0), np.max(f["quad_flat"], axis=0)
        h = y1 - y0
        x0, x1 = x0 - rng.uniform(0.0, 0.3) * h, x1 + rng.uniform(0.0, 0.3) * h
        y0, y1 = y0 - rng.uniform(0.1, 0.6) * h, y1 + rng.uniform(0.05, 0.3) * h
        src = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], np.float64) @ hom.T
        src = (src[:, :2] / src[:, 2:]).astype(np.float32)
        w_out, h_out = max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale))
        dst = np.array([[0, 0], [w_out, 0], [w_out, h_out], [0, h_out]], np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        out.append((cv2.warpPerspective(image, m, (w_out, h_out), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE), f["text"]))
    return out


def capture_examples(synth_dir: Path, seed: int, target: int, recipe: Recipe = ABOVE) -> tuple[Examples, Examples]:
    """Examples from the name fields of the training split's generated captures, crops scaled to ``target``
    pixels: ``(training, held-out)``, documents split 85/15."""
    rng = np.random.default_rng(seed)
    train, held = Examples(), Examples()
    records = [json.loads(line) for line in (synth_dir / "manifest.jsonl").read_text().splitlines() if line.strip()]
    from tqdm import tqdm

    for r in tqdm(records, desc="name fields of generated captures", unit="doc"):
        if r.get("split") != "train" or r.get("side") != "front" or not r.get("fields"):
            continue
        into = held if rng.random() < 0.15 else train
        image = cv2.cvtColor(cv2.imread(str(synth_dir / r["image"])), cv2.COLOR_BGR2RGB)
        for crop, text in field_crops(r, image, rng):
            into.words += 1
            _add_letters(into, recipe.features(prepare(crop, target, recipe.model.PAPER_BORDER), text), text,
                         recipe)
    return train, held


def make_examples(cfg: MarkTrainConfig, seed: int, count: int, held_out: bool | None, desc: str,
                  target: int, recipe: Recipe = ABOVE) -> Examples:
    """Examples from ``count`` words (crops scaled to ``target`` pixels), drawn in chunks of 100 over
    ``cfg.workers`` processes (the same examples for any number of workers)."""
    chunk = 100
    jobs = [(cfg, seed * 100003 + i, min(chunk, count - i * chunk), held_out, target, recipe)
            for i in range((count + chunk - 1) // chunk)]
    total = Examples()
    with ProcessPoolExecutor(max(1, cfg.workers)) as pool:
        from tqdm import tqdm

        for part in tqdm(pool.map(_examples, jobs), total=len(jobs), desc=desc, unit="100 words"):
            total.x += part.x
            total.y += part.y
            total.skipped += part.skipped
            total.words += part.words
    return total


def fit(ex: Examples, cfg: MarkTrainConfig, extra: Examples | None = None,
        recipe: Recipe = ABOVE) -> ZoneClassifier:
    """The CNN of the recipe's model (:class:`MarkModel` by default) fitted in Keras (Adam, a random 10 % of
    the examples for early stopping), its weights exported for NumPy. ``extra`` examples (from generated
    captures) weigh ``cfg.capture_weight`` each."""
    import keras

    keras.utils.set_random_seed(cfg.seed)
    extra = extra or Examples()
    x, y = np.asarray(ex.x + extra.x, np.float32), np.asarray(ex.y + extra.y)
    weight = np.concatenate([np.ones(len(ex.y)), np.full(len(extra.y), cfg.capture_weight)]).astype(np.float32)
    order = np.random.default_rng(cfg.seed).permutation(len(y))  # validation_split takes the last 10 %
    x, y, weight = x[order], y[order], weight[order]
    shape = recipe.model.SHAPE
    zone_in = keras.Input(shape + (1,))
    extra_in = keras.Input((2,))
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(zone_in)
    h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(h)
    h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Concatenate()([keras.layers.Flatten()(h), extra_in])
    h = keras.layers.Dense(cfg.hidden, activation="relu")(keras.layers.Dropout(0.2)(h))
    out = keras.layers.Dense(len(recipe.classes))(h)
    net = keras.Model([zone_in, extra_in], out)
    net.compile(optimizer=keras.optimizers.Adam(2e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    net.fit([x[:, :-2].reshape(-1, *shape, 1), x[:, -2:]], y, sample_weight=weight, batch_size=256,
            epochs=cfg.epochs,
            validation_split=0.1, verbose=2,
            callbacks=[keras.callbacks.EarlyStopping(patience=4, restore_best_weights=True)])
    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    dense = [layer for layer in net.layers if isinstance(layer, keras.layers.Dense)]
    w = [np.asarray(v, np.float32) for layer in convs + dense for v in layer.get_weights()]
    model = recipe.model(*w)
    probe = x[:256]
    logits = net([probe[:, :-2].reshape(-1, *shape, 1), probe[:, -2:]])
    want = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    if not np.allclose(model.predict_proba(probe), want, atol=1e-4):
        raise RuntimeError(f"the NumPy {recipe.model.WHAT} disagrees with the Keras network it was exported from")
    return model


def evaluate(model: ZoneClassifier, ex: Examples, min_probability: float) -> dict:
    """Accuracy, the confusion matrix (rows: truth), and the share of letters the pipeline's rule would give a
    wrong mark (the most probable mark at or above ``min_probability`` differs from the truth and from what a
    reader that kept the letter unmarked would report)."""
    x, y = np.asarray(ex.x, np.float32), np.asarray(ex.y)
    p = model.predict_proba(x)
    pred = p.argmax(axis=1)
    k = len(model.CLASSES)
    conf = np.zeros((k, k), int)
    np.add.at(conf, (y, pred), 1)
    sure = p.max(axis=1) >= min_probability
    return {"accuracy": round(float((pred == y).mean()), 4), "letters": int(len(y)),
            "marked_recall": round(float((pred[y > 0] == y[y > 0]).mean()), 4),
            "sure_share": round(float(sure.mean()), 4),
            "sure_wrong": round(float((sure & (pred != y)).mean()), 4),
            "words_skipped": round(ex.skipped / max(ex.words, 1), 4), "confusion": conf.tolist()}


def run(cfg: MarkTrainConfig, rule: MarkConfig, recipe: Recipe, key: str, title: str) -> dict:
    """Train ``recipe``'s classifier from ``cfg``, score it, write its weights, record (``key``: its name in
    :data:`models.registry.MODEL_NAMES`), metrics and MLflow run; returns the metrics' summary.

    Raises:
        InputError: the generated documents are missing.
    """
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    t0 = time.perf_counter()
    synth_dir = Path(cfg.synth_dir)
    if not (synth_dir / "manifest.jsonl").is_file():
        raise InputError(f"{synth_dir}/manifest.jsonl missing: run the generate stage first "
                         "(cd data && dvc repro -s generate)")
    target = rule.target_height
    cap_train, cap_held = capture_examples(synth_dir, cfg.seed, target, recipe)
    train = make_examples(cfg, cfg.seed, cfg.words, None, "drawing training words", target, recipe)
    held = make_examples(cfg, cfg.seed + 1, cfg.eval_words, None, "drawing held-out words", target, recipe)
    model = fit(train, cfg, cap_train, recipe)
    metrics = {"held_out": evaluate(model, held, rule.min_probability),
               "captures_held_out": evaluate(model, cap_held, rule.min_probability)}
    # the same recipe without one font family, scored on drawn words in that family only
    seen = make_examples(cfg, cfg.seed + 2, cfg.words, False, "drawing words without the held-out font", target,
                         recipe)
    unseen = make_examples(cfg, cfg.seed + 3, cfg.eval_words, True, "drawing words in the held-out font", target,
                           recipe)
    metrics["unseen_font"] = evaluate(fit(seen, cfg, cap_train, recipe), unseen, rule.min_probability)
    metrics["train_letters"] = {"drawn": len(train.y), "captures": len(cap_train.y)}
    metrics["seconds"] = round(time.perf_counter() - t0, 1)
    out = Path(cfg.model_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    model.save(tmp)
    tmp.replace(out)
    summary = {key: {"accuracy": metrics["held_out"]["accuracy"],
                     "marked_recall": metrics["held_out"]["marked_recall"],
                     "sure_wrong": metrics["held_out"]["sure_wrong"],
                     "captures_accuracy": metrics["captures_held_out"]["accuracy"],
                     "captures_marked_recall": metrics["captures_held_out"]["marked_recall"],
                     "captures_sure_wrong": metrics["captures_held_out"]["sure_wrong"],
                     "accuracy_unseen_font": metrics["unseen_font"]["accuracy"],
                     "marked_recall_unseen_font": metrics["unseen_font"]["marked_recall"]},
               "detail": metrics}
    Path(cfg.metrics_out).parent.mkdir(parents=True, exist_ok=True)
    Path(cfg.metrics_out).write_text(json.dumps(summary, indent=2) + "\n")
    from training.docmodel_plots import confusion_figure
    from training.mlflow_utils import DocTrainConfig, log_classifier_run

    figure = confusion_figure(metrics["captures_held_out"]["confusion"], recipe.classes,
                              f"{title}, held-out generated captures")
    run_id = log_classifier_run(DocTrainConfig(tracking_uri=cfg.tracking_uri, experiment=cfg.experiment),
                                f"train_{key}", to_mapping(cfg), summary[key], out, figure, f"{key}_confusion.png")
    write_record(out, key, {"zone_shape": list(recipe.model.SHAPE), "classes": list(recipe.classes),
                            "hidden": cfg.hidden}, git_commit=git_commit(), mlflow_run_id=run_id)
    log.info("%s: held-out accuracy %.3f, unseen font %.3f (%d training letters, %.0f s)", title,
             summary[key]["accuracy"], summary[key]["accuracy_unseen_font"], len(train.y), metrics["seconds"])
    return summary


def cli(argv: list[str] | None, doc: str, section: str, recipe: Recipe, key: str, title: str) -> int:
    """The command line of a letter classifier's stage: ``--params``, then :func:`run` on its ``section``
    (``doc``: the stage module's docstring, whose first paragraph is the help text)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml", help=f"params file (sections {section}, document_marks)")
    args = ap.parse_args(argv)
    cfg = load_section(args.params, section, MarkTrainConfig)
    run(cfg, load_section(args.params, "document_marks", MarkConfig), recipe, key, title)
    return 0


def main(argv: list[str] | None = None) -> int:
    return cli(argv, __doc__, "marks_train", ABOVE, "marks", "mark classifier")


if __name__ == "__main__":
    raise SystemExit(main())
