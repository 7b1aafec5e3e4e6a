"""DVC stage ``train_low_marks``: the classifier of marks through or below a letter (``low_marks.py``).

``python -m training.train_low_marks --params params.yaml``

Trained as the mark classifier above letters is (``training/train_marks.py``: the same drawing, capture
crops, CNN, metrics and MLflow logging), on other examples: drawn words where a share of the letters carry a
stroke (Ł, Ø, Đ), a cedilla (Ç, Ş, Ţ, Ģ, Ķ, Ļ, Ņ) or an ogonek (Ą, Ę), every mark equally
often, and others a mark above (so that an acute is not taken for a stroke), drawn only in fonts that have
those letters; and the name fields of the ``generate`` stage's training-split captures. Each letter's body
and the band below it (``body_features``) is an example labelled with its low mark.
"""

from __future__ import annotations

import numpy as np

from pipelines.document.low_marks import LOW_MARKS, LowMarkModel, body_features, compose_low, split_low
from training.train_marks import _ALPHABET, Recipe, cli

#: Per low mark, the letters (upper case) that exist with it.
LOW_ALPHABET = {m: [c for c in (compose_low(b, m) for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ") if c is not None]
                for m in LOW_MARKS}
#: Share of a drawn word's unmarked-below letters that carry a mark above instead.
ABOVE_SHARE = 0.25


def pick_low(rng: np.random.Generator, marked_share: float) -> str:
    """One letter (upper case) of a drawn word: with ``marked_share`` a low mark, every mark equally often;
    else with :data:`ABOVE_SHARE` a mark above, else a bare letter."""
    if rng.random() < marked_share:
        return str(rng.choice(LOW_ALPHABET[str(rng.choice(LOW_MARKS[1:]))]))
    if rng.random() < ABOVE_SHARE:
        above = [m for m in _ALPHABET if m != "none" and _ALPHABET[m]]
        return str(rng.choice(_ALPHABET[str(rng.choice(above))]))
    return str(rng.choice(LOW_ALPHABET["none"]))


def label_low(c: str) -> str | None:
    """The class of a drawn or printed character for the low-mark classifier (``None``: not an example)."""
    return split_low(c)[1]


_GLYPHS = "".join(c for m in LOW_MARKS[1:] for c in LOW_ALPHABET[m])
#: The low-mark classifier (``low_marks.py``).
LOW = Recipe(LOW_MARKS, body_features, label_low, pick_low, LowMarkModel, needs_glyphs=_GLYPHS + _GLYPHS.lower())


def main(argv: list[str] | None = None) -> int:
    return cli(argv, __doc__, "low_marks_train", LOW, "low_marks", "low-mark classifier")


if __name__ == "__main__":
    raise SystemExit(main())
